-- Bound DHCP leases, per serving DHCP server, kept across restarts.
CREATE TABLE dhcp_leases (
    server_ip TEXT NOT NULL,
    mac TEXT NOT NULL,
    ip TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (server_ip, mac)
);
