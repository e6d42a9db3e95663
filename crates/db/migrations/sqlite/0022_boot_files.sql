-- What a node network-boots, as the conductor that prepared it rendered it: the
-- iPXE script and the sources of its kernel and ramdisk. Any process with the boot
-- role serves them from here, so a node keeps booting when another conductor
-- adopts it or the boot service runs elsewhere.
CREATE TABLE boot_configs (
    node_uuid TEXT PRIMARY KEY,
    script TEXT NOT NULL,
    kernel TEXT NOT NULL,
    ramdisk TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The sources behind the keys of the image cache's URLs (`/images/<key>`), so a
-- process that has not cached an image yet can fetch it when an agent asks.
CREATE TABLE served_images (
    image_key TEXT PRIMARY KEY,
    source TEXT NOT NULL
);
