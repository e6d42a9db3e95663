//! Network boot services a node needs before its ramdisk agent runs: the TFTP
//! server PXE firmware fetches its boot loader from. (DHCP, the HTTP boot server and
//! boot-script rendering arrive with the rest of the boot issue.)

pub mod tftp;
