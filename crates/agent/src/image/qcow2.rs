//! qcow2 converted to raw while it streams past, never held whole in memory.
//!
//! The input is read once, cluster by cluster, in file order. The header gives the
//! L1 table's place; the L1 table names the L2 tables; each L2 table maps guest
//! clusters to host clusters. A data cluster whose mapping is already known is written
//! straight to its guest offset. A cluster that arrives before anything says what it
//! is (an image whose tables come after its data) is kept in a temporary spill file
//! and written once its L2 table shows up — so the spill only ever holds what the
//! layout forces, and an image laid out tables-first (as `qemu-img convert` writes
//! them) needs none. At the end every guest cluster never written reads as zeros.
//!
//! Refused with a clear error: backing files, encryption, compressed clusters,
//! external data files, extended L2 entries, images marked dirty or corrupt, and
//! images bigger than the disk.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::writer::DiskWriter;

const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
const ZERO_FLAG: u64 = 1;
const MAX_CLUSTER_BITS: u32 = 21;

struct Header {
    cluster_size: u64,
    virtual_size: u64,
    l1_offset: u64,
    l1_entries: u64,
    refcount_table_offset: u64,
    refcount_table_clusters: u64,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn be64(b: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn parse_header(b: &[u8]) -> Result<Header, String> {
    if b.len() < 72 || &b[..4] != b"QFI\xfb" {
        return Err("not a qcow2 image".into());
    }
    let version = be32(b, 4);
    if version != 2 && version != 3 {
        return Err(format!("qcow2 version {version} is not supported (2 or 3)"));
    }
    if be64(b, 8) != 0 {
        return Err("qcow2 images with a backing file are refused".into());
    }
    let cluster_bits = be32(b, 20);
    if !(9..=MAX_CLUSTER_BITS).contains(&cluster_bits) {
        return Err(format!("qcow2 cluster_bits {cluster_bits} is out of range"));
    }
    if be32(b, 32) != 0 {
        return Err("encrypted qcow2 images are not supported".into());
    }
    if version == 3 && b.len() >= 80 {
        let incompatible = be64(b, 72);
        let names = [
            (1, "dirty"),
            (2, "corrupt"),
            (4, "external data file"),
            (8, "non-zlib compression"),
            (16, "extended L2 entries"),
        ];
        for (bit, name) in names {
            if incompatible & bit != 0 {
                return Err(format!("qcow2 feature \"{name}\" is not supported"));
            }
        }
        if incompatible & !31 != 0 {
            return Err(format!(
                "unknown qcow2 incompatible features {incompatible:#x}"
            ));
        }
    }
    let cluster_size = 1u64 << cluster_bits;
    let l1_offset = be64(b, 40);
    if l1_offset & (cluster_size - 1) != 0 {
        return Err("qcow2 L1 table is not cluster-aligned".into());
    }
    Ok(Header {
        cluster_size,
        virtual_size: be64(b, 24),
        l1_offset,
        l1_entries: u64::from(be32(b, 36)),
        refcount_table_offset: be64(b, 48),
        refcount_table_clusters: u64::from(be32(b, 56)),
    })
}

/// Where a spilled cluster sits in the spill file.
struct Spill {
    file: File,
    path: PathBuf,
    len: u64,
    at: HashMap<u64, u64>,
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The streaming converter.
pub struct Qcow2Sink {
    disk: DiskWriter,
    work_dir: PathBuf,
    /// Host offset just past the cluster being processed.
    pos: u64,
    pending: Vec<u8>,
    header: Option<Header>,
    l1: Vec<u8>,
    /// L2 tables not yet seen: host offset → index in the L1 table.
    l2_wanted: HashMap<u64, u64>,
    /// Data clusters not yet seen: host offset → guest offset.
    data_wanted: HashMap<u64, u64>,
    /// Refcount blocks: metadata to pass over.
    refcount_blocks: std::collections::HashSet<u64>,
    spill: Option<Spill>,
    /// Guest clusters written.
    written: Vec<bool>,
}

impl Qcow2Sink {
    pub fn new(disk: DiskWriter, work_dir: &Path) -> Self {
        Self {
            disk,
            work_dir: work_dir.to_path_buf(),
            pos: 0,
            pending: Vec::new(),
            header: None,
            l1: Vec::new(),
            l2_wanted: HashMap::new(),
            data_wanted: HashMap::new(),
            refcount_blocks: Default::default(),
            spill: None,
            written: Vec::new(),
        }
    }

    /// Bytes kept in the spill file so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.spill.as_ref().map_or(0, |s| s.len)
    }

    fn cluster_size(&self) -> u64 {
        self.header.as_ref().map_or(512, |h| h.cluster_size)
    }

    /// Feeds the next bytes of the image.
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            let want = self.cluster_size() as usize;
            let n = (want - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() < want {
                continue;
            }
            if self.header.is_none() {
                let h = parse_header(&self.pending)?;
                if h.virtual_size > self.disk.capacity() {
                    return Err(format!(
                        "the image's virtual size ({} bytes) is bigger than the disk ({} bytes)",
                        h.virtual_size,
                        self.disk.capacity()
                    ));
                }
                let clusters = h.virtual_size.div_ceil(h.cluster_size);
                if h.l1_entries < clusters.div_ceil(h.cluster_size / 8) {
                    return Err("the qcow2 L1 table is too small for the virtual size".into());
                }
                self.written = vec![false; clusters as usize];
                self.header = Some(h);
                // Go on filling the first cluster (header extensions) before using it.
                continue;
            }
            let chunk = std::mem::take(&mut self.pending);
            self.cluster(chunk)?;
        }
        Ok(())
    }

    fn cluster(&mut self, data: Vec<u8>) -> Result<(), String> {
        let host = self.pos;
        self.pos += data.len() as u64;
        let h = self.header.as_ref().expect("header parsed");
        let cs = h.cluster_size;
        if host == 0 {
            return Ok(());
        }
        let l1_bytes = h.l1_entries * 8;
        let l1_end = h.l1_offset + l1_bytes;
        if host >= h.l1_offset && host < l1_end {
            let take = (l1_end - host).min(cs) as usize;
            self.l1.extend_from_slice(&data[..take.min(data.len())]);
            if self.l1.len() as u64 >= l1_bytes {
                self.parse_l1()?;
            }
            return Ok(());
        }
        let rt_end = h.refcount_table_offset + h.refcount_table_clusters * cs;
        if host >= h.refcount_table_offset && host < rt_end {
            for e in data.chunks_exact(8) {
                let off = u64::from_be_bytes(e.try_into().expect("8 bytes")) & OFFSET_MASK;
                if off != 0 {
                    self.refcount_blocks.insert(off);
                }
            }
            return Ok(());
        }
        if let Some(l1_index) = self.l2_wanted.remove(&host) {
            return self.parse_l2(l1_index, &data);
        }
        if let Some(guest) = self.data_wanted.remove(&host) {
            return self.write_guest(guest, &data);
        }
        if self.refcount_blocks.contains(&host) || data.iter().all(|&b| b == 0) {
            return Ok(());
        }
        self.keep(host, &data)
    }

    fn parse_l1(&mut self) -> Result<(), String> {
        let cs = self.cluster_size();
        let entries: Vec<u64> = self
            .l1
            .chunks_exact(8)
            .map(|e| u64::from_be_bytes(e.try_into().expect("8 bytes")))
            .collect();
        for (i, e) in entries.into_iter().enumerate() {
            let off = e & OFFSET_MASK;
            if off == 0 {
                continue;
            }
            if off & (cs - 1) != 0 {
                return Err(format!("qcow2 L2 table at {off:#x} is not cluster-aligned"));
            }
            if off < self.pos {
                if let Some(table) = self.unspill(off)? {
                    self.parse_l2(i as u64, &table)?;
                }
            } else {
                self.l2_wanted.insert(off, i as u64);
            }
        }
        Ok(())
    }

    fn parse_l2(&mut self, l1_index: u64, table: &[u8]) -> Result<(), String> {
        let h = self.header.as_ref().expect("header parsed");
        let (cs, vsize) = (h.cluster_size, h.virtual_size);
        let per_table = cs / 8;
        for (j, e) in table.chunks_exact(8).enumerate() {
            let e = u64::from_be_bytes(e.try_into().expect("8 bytes"));
            let guest = (l1_index * per_table + j as u64) * cs;
            if e == 0 || guest >= vsize {
                continue;
            }
            if e & COMPRESSED != 0 {
                return Err(
                    "compressed qcow2 clusters are not supported; convert the image without -c"
                        .into(),
                );
            }
            let off = e & OFFSET_MASK;
            if off == 0 || e & ZERO_FLAG != 0 {
                continue;
            }
            if off & (cs - 1) != 0 {
                return Err(format!(
                    "qcow2 data cluster at {off:#x} is not cluster-aligned"
                ));
            }
            if off < self.pos {
                if let Some(data) = self.unspill(off)? {
                    self.write_guest(guest, &data)?;
                }
            } else {
                self.data_wanted.insert(off, guest);
            }
        }
        Ok(())
    }

    fn write_guest(&mut self, guest: u64, data: &[u8]) -> Result<(), String> {
        let h = self.header.as_ref().expect("header parsed");
        let len = (h.virtual_size - guest).min(data.len() as u64) as usize;
        let index = (guest / h.cluster_size) as usize;
        self.disk.write_at(guest, &data[..len])?;
        self.written[index] = true;
        Ok(())
    }

    /// Keeps a cluster nothing has claimed yet.
    fn keep(&mut self, host: u64, data: &[u8]) -> Result<(), String> {
        if self.spill.is_none() {
            let path = self.work_dir.join(format!(
                "ferric-qcow2-spill-{}-{host:x}",
                std::process::id()
            ));
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| format!("cannot create spill file {}: {e}", path.display()))?;
            self.spill = Some(Spill {
                file,
                path,
                len: 0,
                at: HashMap::new(),
            });
        }
        let spill = self.spill.as_mut().expect("created above");
        spill
            .file
            .write_all_at(data, spill.len)
            .map_err(|e| format!("spill file {}: {e}", spill.path.display()))?;
        spill.at.insert(host, spill.len);
        spill.len += data.len() as u64;
        Ok(())
    }

    /// A kept cluster, read back (`None`: it was all zeros, so never kept).
    fn unspill(&mut self, host: u64) -> Result<Option<Vec<u8>>, String> {
        let cs = self.cluster_size() as usize;
        let Some(spill) = self.spill.as_mut() else {
            return Ok(None);
        };
        let Some(at) = spill.at.remove(&host) else {
            return Ok(None);
        };
        let mut buf = vec![0u8; cs];
        spill
            .file
            .read_exact_at(&mut buf, at)
            .map_err(|e| format!("spill file {}: {e}", spill.path.display()))?;
        Ok(Some(buf))
    }

    /// Checks everything arrived, zeroes what was never written, flushes. Returns
    /// the virtual size.
    pub fn finish(mut self) -> Result<u64, String> {
        if self.header.is_none() {
            return Err("the image is too short to be qcow2".into());
        }
        if !self.pending.is_empty() {
            let mut last = std::mem::take(&mut self.pending);
            last.resize(self.cluster_size() as usize, 0);
            self.cluster(last)?;
        }
        let h = self.header.as_ref().expect("header parsed");
        if (self.l1.len() as u64) < h.l1_entries * 8 {
            return Err("the qcow2 image is truncated: its L1 table is missing".into());
        }
        let missing = self.l2_wanted.len() + self.data_wanted.len();
        if missing > 0 {
            return Err(format!(
                "the qcow2 image is truncated: {missing} clusters it refers to never arrived"
            ));
        }
        let (cs, vsize) = (h.cluster_size, h.virtual_size);
        let mut i = 0;
        while i < self.written.len() {
            if self.written[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < self.written.len() && !self.written[i] {
                i += 1;
            }
            let from = start as u64 * cs;
            let to = (i as u64 * cs).min(vsize);
            self.disk.zero_range(from, to - from)?;
        }
        self.disk.finish()?;
        Ok(vsize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ferric-qcow2-{}-{name}", std::process::id()))
    }

    /// Converts `raw` to qcow2 with qemu-img, streams it through the sink in odd
    /// pieces, and checks the disk holds the raw bytes.
    fn round_trip(name: &str, raw: &[u8], opts: &str) -> u64 {
        let (src, img, disk) = (
            tmp(&format!("{name}.raw")),
            tmp(&format!("{name}.qcow2")),
            tmp(&format!("{name}.disk")),
        );
        std::fs::write(&src, raw).unwrap();
        let ok = Command::new("qemu-img")
            .args(["convert", "-f", "raw", "-O", "qcow2", "-o", opts])
            .arg(&src)
            .arg(&img)
            .status()
            .expect("qemu-img is installed")
            .success();
        assert!(ok);
        let disk_len = raw.len() as u64 + (1 << 20);
        let f = File::create(&disk).unwrap();
        f.set_len(disk_len).unwrap();
        f.write_all_at(&vec![0xee; disk_len as usize], 0).unwrap();
        let mut sink = Qcow2Sink::new(DiskWriter::open(&disk).unwrap(), &std::env::temp_dir());
        let bytes = std::fs::read(&img).unwrap();
        for piece in bytes.chunks(7919) {
            sink.push(piece).unwrap();
        }
        let spilled = sink.spilled_bytes();
        assert_eq!(sink.finish().unwrap(), raw.len() as u64);
        let written = std::fs::read(&disk).unwrap();
        assert_eq!(&written[..raw.len()], raw, "{name}: guest bytes");
        for p in [src, img, disk] {
            let _ = std::fs::remove_file(p);
        }
        spilled
    }

    fn sample(len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        for (i, b) in v.iter_mut().enumerate() {
            // Data, with holes of zeros that qcow2 leaves unallocated.
            if (i / 65536) % 3 != 1 {
                *b = (i * 31 % 253) as u8;
            }
        }
        v
    }

    #[test]
    fn converts_qemu_img_output_without_spilling() {
        let raw = sample(3 << 20);
        assert_eq!(round_trip("v3", &raw, "compat=1.1"), 0);
        assert_eq!(round_trip("v2", &raw, "compat=0.10"), 0);
        assert_eq!(round_trip("small-clusters", &raw, "cluster_size=4096"), 0);
    }

    /// A hand-made qcow2 whose data comes before its tables: the data and the L2
    /// table are spilled, then placed when the L1 table arrives after them.
    #[test]
    fn tables_after_data_go_through_the_spill() {
        const CS: usize = 4096;
        let mut img = vec![0u8; 6 * CS];
        img[..4].copy_from_slice(b"QFI\xfb");
        img[48..56].copy_from_slice(&(4 * CS as u64).to_be_bytes());
        img[56..60].copy_from_slice(&1u32.to_be_bytes());
        img[4 * CS..4 * CS + 8].copy_from_slice(&(5 * CS as u64).to_be_bytes());
        for c in 0..6 {
            img[5 * CS + 2 * c + 1] = 1;
        }
        img[4..8].copy_from_slice(&2u32.to_be_bytes());
        img[20..24].copy_from_slice(&12u32.to_be_bytes());
        img[24..32].copy_from_slice(&(4 * CS as u64).to_be_bytes());
        img[36..40].copy_from_slice(&1u32.to_be_bytes());
        img[40..48].copy_from_slice(&(3 * CS as u64).to_be_bytes());
        let payload: Vec<u8> = (0..CS).map(|i| (i % 199 + 1) as u8).collect();
        img[CS..2 * CS].copy_from_slice(&payload);
        let l2 = (1u64 << 63) | CS as u64;
        img[2 * CS + 16..2 * CS + 24].copy_from_slice(&l2.to_be_bytes());
        let l1 = (1u64 << 63) | (2 * CS as u64);
        img[3 * CS..3 * CS + 8].copy_from_slice(&l1.to_be_bytes());
        let (src, raw) = (tmp("hand.qcow2"), tmp("hand.raw"));
        std::fs::write(&src, &img).unwrap();
        // qemu-img agrees the image is valid and what it holds.
        assert!(Command::new("qemu-img")
            .args(["convert", "-f", "qcow2", "-O", "raw"])
            .arg(&src)
            .arg(&raw)
            .status()
            .unwrap()
            .success());
        let expected = std::fs::read(&raw).unwrap();
        assert_eq!(&expected[2 * CS..3 * CS], &payload[..]);
        let disk = tmp("hand.disk");
        let f = File::create(&disk).unwrap();
        f.set_len(8 * CS as u64).unwrap();
        f.write_all_at(&vec![0xee; 8 * CS], 0).unwrap();
        let mut sink = Qcow2Sink::new(DiskWriter::open(&disk).unwrap(), &std::env::temp_dir());
        sink.push(&img).unwrap();
        assert_eq!(sink.spilled_bytes(), 2 * CS as u64);
        sink.finish().unwrap();
        assert_eq!(&std::fs::read(&disk).unwrap()[..4 * CS], &expected[..]);
        for p in [src, raw, disk] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn refuses_what_it_cannot_convert() {
        let raw = sample(1 << 20);
        let (src, img) = (tmp("c.raw"), tmp("c.qcow2"));
        std::fs::write(&src, &raw).unwrap();
        assert!(Command::new("qemu-img")
            .args(["convert", "-c", "-f", "raw", "-O", "qcow2"])
            .arg(&src)
            .arg(&img)
            .status()
            .unwrap()
            .success());
        let disk = tmp("c.disk");
        File::create(&disk).unwrap().set_len(4 << 20).unwrap();
        let mut sink = Qcow2Sink::new(DiskWriter::open(&disk).unwrap(), &std::env::temp_dir());
        let err = sink
            .push(&std::fs::read(&img).unwrap())
            .and_then(|()| sink.finish().map(|_| ()))
            .unwrap_err();
        assert!(err.contains("compressed"), "{err}");
        // Too big for the disk.
        let small = tmp("small.disk");
        File::create(&small).unwrap().set_len(1 << 19).unwrap();
        let mut sink = Qcow2Sink::new(DiskWriter::open(&small).unwrap(), &std::env::temp_dir());
        let err = sink.push(&std::fs::read(&img).unwrap()).unwrap_err();
        assert!(err.contains("bigger than the disk"), "{err}");
        // Truncated.
        let bytes = std::fs::read(&img).unwrap();
        let mut sink = Qcow2Sink::new(DiskWriter::open(&disk).unwrap(), &std::env::temp_dir());
        sink.push(&bytes[..1024]).unwrap();
        assert!(sink.finish().is_err());
        for p in [src, img, disk, small] {
            let _ = std::fs::remove_file(p);
        }
    }
}
