//! Capturing file descriptor 2 around a call.

use std::os::fd::AsRawFd;

/// Captures what is written to file descriptor 2 during a call: rcutils reports there an
/// error message that overwrote one nobody reset (`This error state is being overwritten`),
/// i.e. a function that set two messages for one failure.
pub struct Stderr {
    saved: i32,
    file: std::fs::File,
}

/// fd 2 belongs to the whole process: one capturing test at a time.
pub static STDERR: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Stderr {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("bad_input_stderr.{}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        // SAFETY: duplicates this process's stderr descriptor, restored by `capture`.
        let saved = unsafe { libc::dup(2) };
        assert!(saved >= 0);
        Stderr { saved, file }
    }

    /// Runs `f` with fd 2 pointing to the capture file; returns what was written there.
    pub fn capture<T>(&mut self, f: impl FnOnce() -> T) -> (T, String) {
        use std::io::{Read, Seek};
        self.file.set_len(0).unwrap();
        self.file.rewind().unwrap();
        // SAFETY: both are open descriptors of this process; fd 2 is restored below.
        assert!(unsafe { libc::dup2(self.file.as_raw_fd(), 2) } >= 0);
        let r = f();
        // SAFETY: as above.
        assert!(unsafe { libc::dup2(self.saved, 2) } >= 0);
        let mut text = String::new();
        self.file.rewind().unwrap();
        self.file.read_to_string(&mut text).unwrap();
        (r, text)
    }
}

impl Drop for Stderr {
    fn drop(&mut self) {
        // SAFETY: closes the duplicate made by `new`, no longer used.
        unsafe { libc::close(self.saved) };
    }
}
