//! Network boot services a node needs before its ramdisk agent runs: the DHCP
//! server that tells it where to boot from, the TFTP server PXE firmware fetches its
//! boot loader from, router advertisements that spare iPXE its IPv6 wait, and the
//! confinement of both TFTP and ferricd's HTTP `/boot/` to the boot root.

pub mod dhcp;
pub mod ra;
pub mod root_path;
pub mod tftp;
