//! Atomic file writes: every file nnc writes goes through [`write_atomic`].
//!
//! The contents go to a temporary file in the target's directory (same file system, so
//! the final `rename` is atomic), are flushed and fsynced, and only then renamed over the
//! target. A failure at any point (the caller's closure, a full disk, a crash) leaves the
//! previous file untouched and, except after a crash, no temporary file behind.
//!
//! Logs that grow by one line per epoch use [`LineLog`], which rewrites the whole (small)
//! file atomically on every append: a reader never sees a half-written line, and a crash
//! mid-epoch loses at most that epoch's line.

use super::IoError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `path` atomically with the bytes `write` produces.
///
/// If `write` returns an error, or flushing, syncing or renaming fails, the previous
/// contents of `path` (or its absence) are kept and the temporary file is removed.
pub fn write_atomic<F>(path: impl AsRef<Path>, write: F) -> Result<(), IoError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let path = path.as_ref();
    let fail = |source| IoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = parent_dir(path);
    let prefix = temp_prefix(path);
    // tempfile names its random temporary path in the error: report the OS error alone.
    let mut tmp = temp_builder(&prefix)
        .tempfile_in(&dir)
        .map_err(|e| fail(std::io::Error::new(e.kind(), os_message(&e))))?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w).map_err(fail)?;
        w.flush().map_err(fail)?;
    }
    tmp.as_file().sync_all().map_err(fail)?;
    // On error `persist` hands the temporary file back; dropping it deletes it.
    tmp.persist(path).map_err(|e| fail(e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// The OS's message of an error, without the path context that tempfile adds to it.
fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" at path ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The directory that holds `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Temporary files are hidden and named after the target, so a leftover from a crash is
/// recognisable (`.params.safetensors.XXXXXX.tmp`).
fn temp_prefix(path: &Path) -> String {
    path.file_name()
        .map(|n| format!(".{}.", n.to_string_lossy()))
        .unwrap_or_else(|| ".nnc.".to_string())
}

fn temp_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(".tmp");
    // tempfile's default is owner-only; a written file should get the usual permissions
    // (0666 minus the umask), like any file a program creates.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// Makes the rename itself durable. Best effort: some file systems refuse to sync a
/// directory, and the data is already safe in the renamed file.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A JSON-lines (or any line-oriented) log that is rewritten atomically on each append.
///
/// Starting a log replaces any previous file at the path on the first append; the lines
/// are kept in memory, which is fine for one line per epoch.
#[derive(Debug)]
pub struct LineLog {
    path: PathBuf,
    text: String,
}

impl LineLog {
    /// A log that will be written to `path` (nothing is written until the first append).
    pub fn new(path: impl Into<PathBuf>) -> LineLog {
        LineLog {
            path: path.into(),
            text: String::new(),
        }
    }

    /// A log that starts with `lines` already in it (e.g. the epochs of a resumed run),
    /// written together with the first append.
    pub fn with_lines<S: AsRef<str>>(path: impl Into<PathBuf>, lines: &[S]) -> LineLog {
        let mut text = String::new();
        for l in lines {
            text.push_str(l.as_ref().trim_end_matches('\n'));
            text.push('\n');
        }
        LineLog {
            path: path.into(),
            text,
        }
    }

    /// The file this log writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` (a newline is added) and rewrites the file atomically. On error the
    /// line is not kept, so the in-memory log matches the file.
    pub fn append(&mut self, line: &str) -> Result<(), IoError> {
        let before = self.text.len();
        self.text.push_str(line.trim_end_matches('\n'));
        self.text.push('\n');
        let text = &self.text;
        let result = write_atomic(&self.path, |w| w.write_all(text.as_bytes()));
        if result.is_err() {
            self.text.truncate(before);
        }
        result
    }
}
