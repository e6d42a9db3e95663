//! Writes an image to the target disk: sequential data is gathered into one large
//! aligned buffer and written with `O_DIRECT` (bypassing the page cache, so the
//! agent's memory stays flat however big the image), falling back to ordinary writes
//! where the target refuses direct I/O (tmpfs, some filesystems). Random-offset writes
//! (qcow2 clusters) and zeroed ranges go through the ordinary descriptor.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The size of each direct write.
pub const CHUNK: usize = 8 << 20;
const ALIGN: usize = 4096;

/// A heap buffer aligned for direct I/O.
struct AlignedBuf {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the buffer is owned memory with no interior sharing.
unsafe impl Send for AlignedBuf {}

impl AlignedBuf {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len, ALIGN).expect("valid layout");
        // SAFETY: layout has non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of memory allocating the write buffer");
        Self { ptr, len }
    }

    fn as_mut(&mut self) -> &mut [u8] {
        // SAFETY: ptr points to len initialised bytes owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    fn as_ref(&self) -> &[u8] {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.len, ALIGN).expect("valid layout");
        // SAFETY: allocated with this layout in new().
        unsafe { dealloc(self.ptr, layout) }
    }
}

/// The target disk, open for writing.
pub struct DiskWriter {
    path: PathBuf,
    direct: Option<File>,
    plain: File,
    buf: AlignedBuf,
    filled: usize,
    /// Where the buffer's first byte goes.
    offset: u64,
    capacity: u64,
    /// Test mode: the disk takes this many bytes a second at most (a slow disk).
    rate: Option<u64>,
    /// Bytes gathered before each write (the buffer's size).
    chunk: usize,
}

impl DiskWriter {
    pub fn open(path: &Path) -> Result<Self, String> {
        let plain = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| format!("cannot open {} for writing: {e}", path.display()))?;
        let direct = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok();
        let capacity = crate::disks::size_of(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            direct,
            plain,
            buf: AlignedBuf::new(CHUNK),
            chunk: CHUNK,
            filled: 0,
            offset: 0,
            capacity,
            rate: None,
        })
    }

    /// Writes in chunks of `bytes` (rounded up to 4 KiB) instead of 8 MiB: many
    /// simulated machines in one process each keep a smaller buffer.
    pub fn chunked(mut self, bytes: Option<usize>) -> Self {
        if let Some(b) = bytes.filter(|b| *b > 0) {
            let chunk = b.div_ceil(4096) * 4096;
            self.buf = AlignedBuf::new(chunk);
            self.chunk = chunk;
        }
        self
    }

    /// Makes the disk no faster than `bytes_per_sec` (simulated slow disks).
    pub fn throttled(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.rate = bytes_per_sec.filter(|r| *r > 0);
        self
    }

    fn pace(&self, bytes: usize) {
        if let Some(rate) = self.rate {
            std::thread::sleep(std::time::Duration::from_secs_f64(
                bytes as f64 / rate as f64,
            ));
        }
    }

    /// The target's size in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Writes `data` at `offset`, outside the sequential buffer (qcow2 clusters).
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), String> {
        if offset + data.len() as u64 > self.capacity {
            return Err(format!(
                "the image does not fit on {} ({} bytes)",
                self.path.display(),
                self.capacity
            ));
        }
        self.pace(data.len());
        self.plain
            .write_all_at(data, offset)
            .map_err(|e| self.io_err(e))
    }

    /// Makes a range read as zeros (the parts of a qcow2 image never written).
    pub fn zero_range(&mut self, offset: u64, len: u64) -> Result<(), String> {
        crate::erase::zero_range(&self.plain, &self.path, offset, len)
    }

    /// Appends `data` at the end of what was written so far.
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), String> {
        let end = self.offset + self.filled as u64 + data.len() as u64;
        if end > self.capacity {
            return Err(format!(
                "the image does not fit on {} ({} bytes)",
                self.path.display(),
                self.capacity
            ));
        }
        while !data.is_empty() {
            let n = (self.chunk - self.filled).min(data.len());
            self.buf.as_mut()[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled == self.chunk {
                self.flush_full()?;
            }
        }
        Ok(())
    }

    fn flush_full(&mut self) -> Result<(), String> {
        let written = match &self.direct {
            Some(f) => f.write_all_at(self.buf.as_ref(), self.offset),
            None => Err(std::io::Error::from(std::io::ErrorKind::Unsupported)),
        };
        if let Err(e) = written {
            if self.direct.take().is_some() {
                tracing::info!(device = %self.path.display(), error = %e, "direct I/O refused; writing through the page cache");
            }
            self.plain
                .write_all_at(self.buf.as_ref(), self.offset)
                .map_err(|e| self.io_err(e))?;
        }
        self.pace(self.chunk);
        self.offset += self.chunk as u64;
        self.filled = 0;
        Ok(())
    }

    /// Writes what is buffered and makes everything durable. Returns the bytes
    /// written sequentially.
    pub fn finish(self) -> Result<u64, String> {
        if self.filled > 0 {
            let tail = &self.buf.as_ref()[..self.filled];
            self.plain
                .write_all_at(tail, self.offset)
                .map_err(|e| self.io_err(e))?;
        }
        self.plain.sync_all().map_err(|e| self.io_err(e))?;
        if let Some(d) = &self.direct {
            d.sync_all().map_err(|e| self.io_err(e))?;
        }
        Ok(self.offset + self.filled as u64)
    }

    fn io_err(&self, e: std::io::Error) -> String {
        format!("writing {} failed: {e}", self.path.display())
    }
}
