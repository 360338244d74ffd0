//! Files iamsim reads and writes: one safe writer and one bounded reader, shared by the CLI
//! (`generate -o`, snapshots, change files, catalogues, documents) and this crate (`vultr fetch
//! -o`, key files).
//!
//! Writing ([`write_atomic`]): only a regular file is ever replaced; a device, FIFO, socket or
//! directory is refused and left untouched. A symbolic link is followed: its final target is
//! written, and the link stays a link. An existing file keeps its mode and (when iamsim may
//! set it, as root) its owner and group; a new file is created readable and writable by its
//! owner only (0600), since every file iamsim writes holds organization data. The bytes go to
//! a temporary file in the target's directory, which is flushed to disk, renamed over the
//! target, and the directory is flushed too: a reader sees the old file or the new one, never
//! half of one, and a failure leaves the target as it was and no temporary file.
//!
//! Reading ([`read_limited`]): at most a cap of bytes, checked while reading, so that a device
//! that never ends (`/dev/zero`) or a file far larger than any organization ends in an error,
//! not in memory exhaustion. `-` is standard input, under the same cap, and can be read once.
//! Every input iamsim reads is text (JSON, a catalogue, a key), so a control byte other than
//! tab, line feed or carriage return stops the read at once: binary data is refused after its
//! first block, whatever the cap.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The default cap on a snapshot file: 2 GiB, far above the largest organization (a
/// 100,000-user snapshot is about 100 MB).
pub const SNAPSHOT_LIMIT: u64 = 2 << 30;

/// The default cap on every other input (catalogue, change file, policy document, key file,
/// fault script): 64 MiB.
pub const INPUT_LIMIT: u64 = 64 << 20;

/// The name that means standard input wherever a file is read.
pub const STDIN: &str = "-";

/// Symbolic links followed before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// Reads the whole file at `path` (`-`: standard input), failing once more than `limit` bytes
/// have been read or a byte that no text holds (a control character other than tab, line feed
/// and carriage return) is seen.
///
/// Errors are `io::Error`s without the path; the caller names it. Their kinds:
/// `FileTooLarge` over the cap, `InvalidData` for binary content, `IsADirectory`, and
/// `InvalidInput` when standard input is named twice.
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    if path.as_os_str() == STDIN {
        static STDIN_READ: AtomicBool = AtomicBool::new(false);
        if STDIN_READ.swap(true, Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "standard input (`-`) can be read only once per command",
            ));
        }
        return read_text_from(io::stdin().lock(), limit);
    }
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    if metadata.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    // A regular file's size is known: refuse it before reading a byte.
    if metadata.is_file() && metadata.len() > limit {
        return Err(too_large(limit));
    }
    read_text_from(file, limit)
}

fn read_text_from(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut reader = reader.take(limit.saturating_add(1));
    let mut out = Vec::new();
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(i) = block[..n]
            .iter()
            .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "not text: control byte 0x{:02x} at byte offset {}",
                    block[i],
                    out.len() + i
                ),
            ));
        }
        out.extend_from_slice(&block[..n]);
        if out.len() as u64 > limit {
            return Err(too_large(limit));
        }
    }
    Ok(out)
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("larger than the limit of {}", format_size(limit)),
    )
}

/// A size as people write it: `2 GiB`, `64 MiB`, `1000 bytes`.
pub(crate) fn format_size(bytes: u64) -> String {
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Parses a size: a whole number of bytes, optionally followed by `K`, `KiB`, `M`, `MiB`, `G`,
/// `GiB`, `T` or `TiB` (powers of 1024; `KB`, `MB`, ... mean the same). At least one byte.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let not_a_size = || SizeError::NotASize {
        text: text.to_string(),
    };
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(not_a_size()),
    };
    let number: u64 = number.parse().map_err(|_| not_a_size())?;
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| SizeError::TooLarge {
            text: text.to_string(),
        })?;
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    Ok(bytes)
}

/// Why a size does not parse ([`parse_size`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SizeError {
    /// Not a whole number with an optional unit.
    #[error("`{text}` is not a size: a whole number with an optional unit (KiB, MiB, GiB, TiB)")]
    NotASize {
        /// The text, trimmed.
        text: String,
    },
    /// More bytes than 64 bits hold.
    #[error("`{text}` is too large")]
    TooLarge {
        /// The text, trimmed.
        text: String,
    },
    /// Zero bytes.
    #[error("a size of zero bytes would refuse every input")]
    Zero,
}

/// Writes `bytes` to `path` whole or not at all; see the module docs for what is refused,
/// followed and kept.
///
/// Errors are `io::Error`s without the path; the caller names it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve_links(path)?;
    let existing = match std::fs::metadata(&target) {
        Ok(metadata) if metadata.is_file() => Some(metadata),
        Ok(metadata) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                "not a regular file ({}); iamsim writes only regular files and leaves it untouched",
                kind_of(&metadata)
            ),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let (mut file, temp) = create_temp(&dir, &name.to_string_lossy())?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(metadata) = &existing {
            keep_owner_and_mode(&file, metadata)?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `path` with every symbolic link along its last component followed, even a dangling one
/// (then the file it names is created).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} symbolic links to follow"),
    ))
}

fn create_temp(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temp) {
            Ok(file) => return Ok((file, temp)),
            // A stale temporary file from a crashed run: take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(unix)]
fn keep_owner_and_mode(file: &File, target: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mine = file.metadata()?;
    if (mine.uid(), mine.gid()) != (target.uid(), target.gid()) {
        // Only root may give a file away; anyone else keeps the file as their own, as any
        // editor would.
        match std::os::unix::fs::fchown(file, Some(target.uid()), Some(target.gid())) {
            Err(e) if mine.uid() == 0 => return Err(e),
            _ => {}
        }
    }
    // After the owner: changing it may clear set-id bits.
    file.set_permissions(std::fs::Permissions::from_mode(target.mode() & 0o7777))
}

#[cfg(not(unix))]
fn keep_owner_and_mode(file: &File, target: &Metadata) -> io::Result<()> {
    file.set_permissions(target.permissions())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot flush a directory; the rename is then as durable as they
        // make it.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

fn kind_of(metadata: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        for (text, bytes) in [
            ("1", 1),
            ("4096", 4096),
            ("4GiB", 4 << 30),
            ("4 GiB", 4 << 30),
            ("64MiB", 64 << 20),
            ("64m", 64 << 20),
            ("2k", 2048),
            ("1TiB", 1 << 40),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in [
            "",
            "0",
            "-1",
            "1.5GiB",
            "GiB",
            "4 PiB",
            "99999999999999999999",
            "20000000TiB",
        ] {
            assert!(parse_size(text).is_err(), "{text}");
        }
        assert_eq!(format_size(SNAPSHOT_LIMIT), "2 GiB");
        assert_eq!(format_size(INPUT_LIMIT), "64 MiB");
        assert_eq!(format_size(1000), "1000 bytes");
    }

    #[test]
    fn control_bytes_stop_the_read() {
        let e = read_text_from(&b"{\"a\": 1}\n\x00"[..], 100).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("0x00 at byte offset 9"), "{e}");
        assert_eq!(
            read_text_from(&b"\xEF\xBB\xBF{}\r\n\t"[..], 100).unwrap(),
            b"\xEF\xBB\xBF{}\r\n\t"
        );
        let e = read_text_from(&[b' '; 101][..], 100).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(read_text_from(&[b' '; 100][..], 100).unwrap().len(), 100);
    }
}
