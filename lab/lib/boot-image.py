"""lab/lib/boot-image.py OUT — writes the lab's deploy image: 2 MiB whose boot sector
prints FERRIC-BOOTED on the first serial port and halts, so a test sees on the VM's
console that the machine booted what was deployed (lab/vm-deploy.sh,
lab/ipa-deploy.sh). Its MBR has one Linux partition over the second MiB:
ironic-python-agent refuses a whole-disk image in which parted finds no partition."""
import os
import struct
import sys

SIZE = 2 << 20
SECTORS = SIZE // 512

out = sys.argv[1]
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
# print the string at 0x7c16 to COM1, then halt
code = bytes.fromhex("FC31C08ED8BE167CBAF803AC84C07403EEEBF8F4EBFD")
img = bytearray(SIZE)
img[: len(code)] = code
msg = b"FERRIC-BOOTED\r\n\0"
img[len(code) : len(code) + len(msg)] = msg
# one partition entry: active, type 0x83, LBA 2048 to the end (CHS fields left 0)
img[446:462] = bytes([0x80, 0, 0, 0, 0x83, 0, 0, 0]) + struct.pack("<II", 2048, SECTORS - 2048)
img[510:512] = b"\x55\xaa"
with open(out, "wb") as f:
    f.write(img)
