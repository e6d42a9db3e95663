//! The config drive of a whole-disk image: fetched (an http(s) URL) or decoded
//! (base64 of a gzipped ISO; bytes that are not base64 are taken as they are), then
//! written to a new 64 MiB partition at the end of the disk. The partition is added
//! to the image's own table — MBR (a free primary slot) or GPT (the backup header
//! moved to the disk's real end, an entry named `config-2`) — and the image written
//! straight through the whole-disk device at the partition's offset.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use base64::Engine;
use flate2::read::GzDecoder;

use crate::commands::CommandError;
use crate::settings::Settings;

/// The largest config drive accepted, and the partition made for it.
pub const MAX_SIZE: u64 = 64 << 20;
const SECTOR: u64 = 512;
const ALIGN_SECTORS: u64 = 2048;
/// GPT type "Linux filesystem data" (0FC63DAF-8483-4772-8E79-3D69D8477DE4), as stored.
const LINUX_FS_TYPE: [u8; 16] = [
    0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
];

pub fn error(details: impl Into<String>) -> CommandError {
    CommandError::failed(
        "ConfigDriveWriteError",
        "Error writing the config drive",
        details,
    )
}

/// The config drive's bytes from what the conductor sent.
pub async fn fetch(given: &str, settings: &Settings) -> Result<Vec<u8>, CommandError> {
    if given.starts_with("http://") || given.starts_with("https://") {
        let http = super::image::http_client(settings)?;
        let resp = http
            .get(given)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| error(format!("cannot download the config drive: {e}")))?;
        if resp.content_length().is_some_and(|n| n > MAX_SIZE) {
            return Err(error("the config drive is larger than 64 MiB"));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| error(format!("cannot download the config drive: {e}")))?;
        return decode(bytes.as_ref());
    }
    decode(given.as_bytes())
}

/// base64 → gunzip when it is that; the bytes as they are otherwise.
pub fn decode(given: &[u8]) -> Result<Vec<u8>, CommandError> {
    let trimmed: Vec<u8> = given
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&trimmed)
        .unwrap_or_else(|_| given.to_vec());
    let data = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .take(MAX_SIZE + 1)
            .read_to_end(&mut out)
            .map_err(|e| error(format!("the config drive is not valid gzip: {e}")))?;
        out
    } else {
        raw
    };
    if data.len() as u64 > MAX_SIZE {
        return Err(error("the config drive is larger than 64 MiB"));
    }
    if data.is_empty() {
        return Err(error("the config drive is empty"));
    }
    Ok(data)
}

/// Adds the partition and writes the config drive into it; returns the partition's
/// byte offset.
pub fn write(disk: &Path, data: &[u8]) -> Result<u64, String> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(disk)
        .map_err(|e| format!("cannot open {}: {e}", disk.display()))?;
    let size = crate::disks::size_of(disk)?;
    let sectors = size / SECTOR;
    let mut mbr = [0u8; 512];
    f.read_exact_at(&mut mbr, 0).map_err(|e| e.to_string())?;
    if mbr[510..512] != [0x55, 0xaa] {
        return Err(
            "the image has no partition table (MBR or GPT) to add a config drive partition to"
                .into(),
        );
    }
    let start = if mbr[446 + 4] == 0xee {
        add_gpt_partition(&f, sectors, &mut mbr)?
    } else {
        add_mbr_partition(&f, sectors, &mut mbr)?
    };
    let offset = start * SECTOR;
    f.write_all_at(data, offset).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    tracing::info!(device = %disk.display(), offset, bytes = data.len(), "config drive written");
    Ok(offset)
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn align_down(v: u64) -> u64 {
    v / ALIGN_SECTORS * ALIGN_SECTORS
}

/// A primary MBR partition in the disk's last 64 MiB (below the 2 TiB MBR limit).
fn add_mbr_partition(f: &File, sectors: u64, mbr: &mut [u8; 512]) -> Result<u64, String> {
    let limit = sectors.min(u64::from(u32::MAX));
    let len = MAX_SIZE / SECTOR;
    let start = align_down(limit - len);
    let mut free = None;
    for i in 0..4 {
        let e = 446 + 16 * i;
        if mbr[e + 4] == 0 {
            free = free.or(Some(e));
            continue;
        }
        let end = u64::from(le32(mbr, e + 8)) + u64::from(le32(mbr, e + 12));
        if end > start {
            return Err(format!(
                "no room for a config drive: partition {} reaches sector {end}, past {start}",
                i + 1
            ));
        }
    }
    let e =
        free.ok_or("the MBR has four primary partitions already; no slot for the config drive")?;
    let entry = &mut mbr[e..e + 16];
    entry.fill(0);
    entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[4] = 0x83;
    entry[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&(start as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    f.write_all_at(&mbr[..], 0).map_err(|e| e.to_string())?;
    Ok(start)
}

fn header_crc(header: &mut [u8]) -> u32 {
    header[16..20].fill(0);
    crc32fast::hash(header)
}

/// A GPT partition named `config-2` in the disk's last 64 MiB, with the backup
/// table moved to the disk's end.
fn add_gpt_partition(f: &File, sectors: u64, mbr: &mut [u8; 512]) -> Result<u64, String> {
    let mut hdr = vec![0u8; SECTOR as usize];
    f.read_exact_at(&mut hdr, SECTOR)
        .map_err(|e| e.to_string())?;
    if &hdr[..8] != b"EFI PART" {
        return Err("the protective MBR announces GPT, but LBA 1 holds no GPT header".into());
    }
    let header_size = le32(&hdr, 12) as usize;
    if !(92..=SECTOR as usize).contains(&header_size) {
        return Err(format!("GPT header size {header_size} is not supported"));
    }
    let entries_lba = le64(&hdr, 72);
    let count = le32(&hdr, 80) as u64;
    let entry_size = le32(&hdr, 84) as u64;
    if entry_size < 128 || count == 0 || count * entry_size > 1 << 20 {
        return Err("the GPT partition array has an unsupported shape".into());
    }
    let table_bytes = count * entry_size;
    let mut entries = vec![0u8; table_bytes as usize];
    f.read_exact_at(&mut entries, entries_lba * SECTOR)
        .map_err(|e| e.to_string())?;
    let table_sectors = table_bytes.div_ceil(SECTOR);
    let last_lba = sectors - 1;
    let backup_entries_lba = last_lba - table_sectors;
    let last_usable = backup_entries_lba - 1;
    let len = MAX_SIZE / SECTOR;
    let start = align_down(last_usable + 1 - len);
    let end = start + len - 1;
    let mut free = None;
    for i in 0..count as usize {
        let e = &entries[i * entry_size as usize..(i + 1) * entry_size as usize];
        if e[..16].iter().all(|&b| b == 0) {
            free = free.or(Some(i));
            continue;
        }
        let part_end = le64(e, 40);
        if part_end >= start {
            return Err(format!(
                "no room for a config drive: partition {} reaches sector {part_end}, past {start}",
                i + 1
            ));
        }
    }
    let i = free.ok_or("the GPT has no free partition entry for the config drive")?;
    let e = &mut entries[i * entry_size as usize..(i + 1) * entry_size as usize];
    e.fill(0);
    e[..16].copy_from_slice(&LINUX_FS_TYPE);
    e[16..32].copy_from_slice(&uuid::Uuid::new_v4().to_bytes_le());
    e[32..40].copy_from_slice(&start.to_le_bytes());
    e[40..48].copy_from_slice(&end.to_le_bytes());
    for (k, unit) in "config-2".encode_utf16().enumerate() {
        e[56 + 2 * k..58 + 2 * k].copy_from_slice(&unit.to_le_bytes());
    }
    let entries_crc = crc32fast::hash(&entries);
    let mut primary = hdr[..header_size].to_vec();
    primary[32..40].copy_from_slice(&last_lba.to_le_bytes());
    primary[48..56].copy_from_slice(&last_usable.to_le_bytes());
    primary[88..92].copy_from_slice(&entries_crc.to_le_bytes());
    let crc = header_crc(&mut primary);
    primary[16..20].copy_from_slice(&crc.to_le_bytes());
    let mut backup = primary.clone();
    backup[24..32].copy_from_slice(&last_lba.to_le_bytes());
    backup[32..40].copy_from_slice(&1u64.to_le_bytes());
    backup[72..80].copy_from_slice(&backup_entries_lba.to_le_bytes());
    let crc = header_crc(&mut backup);
    backup[16..20].copy_from_slice(&crc.to_le_bytes());
    let io = |e: std::io::Error| e.to_string();
    f.write_all_at(&entries, entries_lba * SECTOR).map_err(io)?;
    f.write_all_at(&primary, SECTOR).map_err(io)?;
    f.write_all_at(&entries, backup_entries_lba * SECTOR)
        .map_err(io)?;
    f.write_all_at(&backup, last_lba * SECTOR).map_err(io)?;
    let protective = (sectors - 1).min(u64::from(u32::MAX)) as u32;
    mbr[446 + 12..446 + 16].copy_from_slice(&protective.to_le_bytes());
    f.write_all_at(&mbr[..], 0).map_err(io)?;
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn disk(name: &str, label: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("ferric-cd-{}-{name}", std::process::id()));
        let f = File::create(&p).unwrap();
        f.set_len(256 << 20).unwrap();
        drop(f);
        let script = format!("label: {label}\nstart=2048, size=100MiB, type=L\n");
        let mut child = Command::new("sfdisk")
            .args(["--quiet", "--no-reread", "--no-tell-kernel"])
            .arg(&p)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("sfdisk (util-linux) runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        p
    }

    /// sfdisk reads the table back: a second partition at the end, 64 MiB.
    fn check_table(p: &Path) -> String {
        let out = Command::new("sfdisk")
            .arg("--dump")
            .arg(p)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn mbr_and_gpt_get_a_partition_at_the_end() {
        for label in ["dos", "gpt"] {
            let p = disk(label, label);
            let data = b"config drive bytes".to_vec();
            let offset = write(&p, &data).unwrap();
            assert_eq!(
                offset,
                (256 << 20) - (64 << 20) - if label == "gpt" { 1 << 20 } else { 0 }
            );
            let mut back = vec![0u8; data.len()];
            File::open(&p)
                .unwrap()
                .read_exact_at(&mut back, offset)
                .unwrap();
            assert_eq!(back, data);
            let dump = check_table(&p);
            let start = offset / 512;
            assert!(
                dump.contains(&format!("start=      {start}, size=      131072"))
                    || dump.contains(&format!("start={start}"))
                    || dump.contains(&format!("{start}, size=")),
                "{label}: {dump}"
            );
            if label == "gpt" {
                assert!(dump.contains("name=\"config-2\""), "{dump}");
                // sfdisk --verify finds the GPT consistent (both headers, CRCs).
                let v = Command::new("sfdisk")
                    .arg("--verify")
                    .arg(&p)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&v.stdout).to_string()
                    + &String::from_utf8_lossy(&v.stderr);
                assert!(v.status.success() && !text.contains("corrupt"), "{text}");
            }
            let _ = std::fs::remove_file(&p);
        }
    }

    #[test]
    fn decodes_gzipped_base64_and_raw() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"iso bytes").unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        assert_eq!(decode(b64.as_bytes()).unwrap(), b"iso bytes");
        assert_eq!(
            decode(b"not base64 at all!").unwrap(),
            b"not base64 at all!"
        );
        assert!(decode(b"").is_err());
    }
}
