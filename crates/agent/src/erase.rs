//! Disk erasing: the metadata wipe (the first and last MiB, where partition tables,
//! their GPT backups and filesystem signatures live) and the whole-disk erase (the
//! kernel zeroes a block device with BLKZEROOUT; a file gets its blocks punched out;
//! plain zero writes when neither works).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

const MIB: u64 = 1 << 20;

/// Zeroes the first and last MiB of the device.
pub async fn metadata(path: &Path) -> Result<(), String> {
    let path = path.to_path_buf();
    blocking(move || {
        let mut f = open(&path)?;
        let size = f.seek(SeekFrom::End(0)).map_err(|e| io_err(&path, e))?;
        let zero = vec![0u8; MIB as usize];
        let head = size.min(MIB);
        write_at(&mut f, &path, 0, &zero[..head as usize])?;
        if size > MIB {
            let start = size.saturating_sub(MIB).max(MIB);
            write_at(&mut f, &path, start, &zero[..(size - start) as usize])?;
        }
        f.sync_all().map_err(|e| io_err(&path, e))?;
        tracing::info!(device = %path.display(), "erased disk metadata");
        Ok(())
    })
    .await
}

/// Zeroes the whole device.
pub async fn whole(path: &Path) -> Result<(), String> {
    let path = path.to_path_buf();
    blocking(move || {
        let mut f = open(&path)?;
        let size = f.seek(SeekFrom::End(0)).map_err(|e| io_err(&path, e))?;
        zero_range(&f, &path, 0, size)?;
        f.sync_all().map_err(|e| io_err(&path, e))?;
        tracing::info!(device = %path.display(), bytes = size, "erased disk");
        Ok(())
    })
    .await
}

/// Makes `len` bytes at `off` read as zeros: the device or filesystem does it where
/// it can, zero writes otherwise.
pub fn zero_range(f: &File, path: &Path, off: u64, len: u64) -> Result<(), String> {
    if len == 0 {
        return Ok(());
    }
    let is_block = f
        .metadata()
        .map(|m| m.file_type().is_block_device())
        .unwrap_or(false);
    let fast = if is_block {
        zero_out_block(f, off, len)
    } else {
        punch_hole(f, off, len)
    };
    if let Err(e) = fast {
        tracing::debug!(device = %path.display(), error = %e, "fast zeroing unavailable; writing zeros");
        use std::os::unix::fs::FileExt;
        let zero = vec![0u8; (8 * MIB).min(len) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zero.len() as u64) as usize;
            f.write_all_at(&zero[..n], off + done)
                .map_err(|e| io_err(path, e))?;
            done += n as u64;
        }
    }
    Ok(())
}

async fn blocking<F>(f: F) -> Result<(), String>
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("erase task failed: {e}"))?
}

fn open(path: &PathBuf) -> Result<File, String> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_err(path, e))
}

fn write_at(f: &mut File, path: &Path, off: u64, buf: &[u8]) -> Result<(), String> {
    f.seek(SeekFrom::Start(off)).map_err(|e| io_err(path, e))?;
    f.write_all(buf).map_err(|e| io_err(path, e))
}

fn io_err(path: &Path, e: std::io::Error) -> String {
    format!("{}: {e}", path.display())
}

/// `BLKZEROOUT`: the device zeroes the range itself where it can.
fn zero_out_block(f: &File, off: u64, len: u64) -> Result<(), std::io::Error> {
    const BLKZEROOUT: libc::c_ulong = 0x127f;
    let range: [u64; 2] = [off, len];
    // SAFETY: the ioctl reads two u64s (start, length) from the pointer, which lives
    // for the call.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), BLKZEROOUT as _, range.as_ptr()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Frees a file's blocks: it reads back as zeros and stays sparse.
fn punch_hole(f: &File, off: u64, len: u64) -> Result<(), std::io::Error> {
    // SAFETY: plain syscall on an open descriptor.
    let rc = unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            off as libc::off_t,
            len as libc::off_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[tokio::test]
    async fn wipes_both_ends_and_everything() {
        let path = std::env::temp_dir().join(format!("ferric-erase-{}", std::process::id()));
        std::fs::write(&path, vec![0xabu8; 5 * MIB as usize]).unwrap();
        metadata(&path).await.unwrap();
        let mut data = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut data).unwrap();
        let m = MIB as usize;
        assert!(data[..m].iter().all(|&b| b == 0));
        assert!(data[4 * m..].iter().all(|&b| b == 0));
        assert!(data[m..4 * m].iter().all(|&b| b == 0xab));
        whole(&path).await.unwrap();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len(), 5 * m);
        assert!(data.iter().all(|&b| b == 0));
        std::fs::remove_file(&path).unwrap();
    }
}
