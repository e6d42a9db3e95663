//! Network boot services a node needs before its ramdisk agent runs: the DHCP
//! server that tells it where to boot from, and the TFTP server PXE firmware fetches
//! its boot loader from. (The HTTP boot server and boot-script rendering arrive with
//! the rest of the boot issue.)

pub mod dhcp;
pub mod tftp;
