//! Network boot services a node needs before its ramdisk agent runs: the DHCP
//! server that tells it where to boot from, the TFTP server PXE firmware fetches its
//! boot loader from, and the confinement of both TFTP and ferricd's HTTP `/boot/`
//! to the boot root.

pub mod dhcp;
pub mod root_path;
pub mod tftp;
