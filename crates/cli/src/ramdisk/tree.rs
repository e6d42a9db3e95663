//! The ramdisk's file tree, kept in memory and written as a gzipped `newc` cpio
//! archive (what the kernel unpacks as an initramfs) the same way every time:
//! entries sorted by path, owned by root, one fixed modification time, a gzip
//! header without a name or a date. Same files in, same bytes out.

use std::collections::BTreeMap;
use std::io::Write;

/// One entry of the tree.
enum Entry {
    Dir,
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
}

/// The tree, by absolute path without its leading `/` (`bin/busybox`).
#[derive(Default)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
}

impl Tree {
    /// Adds a directory and its parents.
    pub fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(part);
            self.entries.entry(at.clone()).or_insert(Entry::Dir);
        }
    }

    /// Adds a file (and its directory); `mode` is its permission bits.
    pub fn file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        let path = path.trim_matches('/');
        self.parent(path);
        self.entries
            .insert(path.to_string(), Entry::File { mode, data });
    }

    /// Adds a symbolic link to `target` unless `path` is taken.
    pub fn symlink(&mut self, path: &str, target: &str) {
        let path = path.trim_matches('/');
        self.parent(path);
        self.entries
            .entry(path.to_string())
            .or_insert_with(|| Entry::Symlink(target.to_string()));
    }

    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path.trim_matches('/'))
    }

    fn parent(&mut self, path: &str) {
        if let Some((dir, _)) = path.rsplit_once('/') {
            self.dir(dir);
        }
    }

    /// The gzipped cpio archive; every entry carries `mtime`.
    pub fn archive(&self, mtime: u32) -> std::io::Result<Vec<u8>> {
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(3)
            .write(Vec::new(), flate2::Compression::best());
        let mut out = gz;
        for (ino, (path, entry)) in (1u32..).zip(&self.entries) {
            let header = cpio::newc::Builder::new(path)
                .ino(ino)
                .uid(0)
                .gid(0)
                .nlink(1)
                .mtime(mtime);
            let (mode, data): (u32, &[u8]) = match entry {
                Entry::Dir => (0o040755, &[]),
                Entry::File { mode, data } => (0o100000 | mode, data),
                Entry::Symlink(target) => (0o120777, target.as_bytes()),
            };
            let len = u32::try_from(data.len()).map_err(|_| {
                std::io::Error::other(format!("{path} is too large for a cpio archive"))
            })?;
            let mut w = header.mode(mode).write(&mut out, len);
            w.write_all(data)?;
            w.finish()?;
        }
        cpio::newc::trailer(&mut out)?;
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn listing(archive: &[u8]) -> Vec<(String, u32, u32)> {
        let mut gz = flate2::read::GzDecoder::new(archive);
        let mut raw = Vec::new();
        gz.read_to_end(&mut raw).unwrap();
        let mut rest: &[u8] = &raw;
        let mut out = Vec::new();
        loop {
            let r = cpio::newc::Reader::new(rest).unwrap();
            if r.entry().is_trailer() {
                break;
            }
            let e = r.entry();
            out.push((e.name().to_string(), e.mode(), e.mtime()));
            rest = r.finish().unwrap();
        }
        out
    }

    #[test]
    fn same_tree_same_bytes_whatever_the_order_of_adding() {
        let mut a = Tree::default();
        a.file("bin/busybox", 0o755, vec![1, 2, 3]);
        a.symlink("bin/sh", "busybox");
        a.file("init", 0o755, b"#!/bin/sh\n".to_vec());
        let mut b = Tree::default();
        b.file("init", 0o755, b"#!/bin/sh\n".to_vec());
        b.symlink("/bin/sh", "busybox");
        b.file("/bin/busybox", 0o755, vec![1, 2, 3]);
        assert_eq!(a.archive(7).unwrap(), b.archive(7).unwrap());
        assert_ne!(a.archive(7).unwrap(), a.archive(8).unwrap());
        assert_eq!(
            listing(&a.archive(7).unwrap()),
            [
                ("bin".to_string(), 0o040755, 7),
                ("bin/busybox".to_string(), 0o100755, 7),
                ("bin/sh".to_string(), 0o120777, 7),
                ("init".to_string(), 0o100755, 7),
            ]
        );
    }

    #[test]
    fn a_symlink_does_not_replace_a_file() {
        let mut t = Tree::default();
        t.file("bin/ip", 0o755, vec![9]);
        t.symlink("bin/ip", "busybox");
        let l = listing(&t.archive(0).unwrap());
        assert_eq!(l[1], ("bin/ip".to_string(), 0o100755, 0));
    }
}
