//! The Fast DDS XML profile the delegate's first participant is created with: XTypes type
//! information registered but not propagated (`fastdds.type_propagation = registration_only`, a
//! DomainParticipant property of Fast DDS 3). Only with Fast DDS 3 (Kilted): Fast DDS 2 (Jazzy)
//! has no such property and propagates no type information unless told to, so its delegate is
//! created exactly as before.
//!
//! Why: Fast DDS 3.2's TypeLookup service iterates its pending-type callbacks
//! (`TypeLookupManager::notify_callbacks`, on the `dds.tls.replies` thread) without the lock
//! under which discovery threads append to them. When several participants on a domain start
//! together, each asks the others for the types announced in their endpoints' TypeInformation
//! and a reply can arrive while discovery appends: the append reallocates the vector being
//! iterated and the process dies (seen once in CI, 4 rmw_shm_rs processes starting at once).
//! Our endpoints never need a peer's type: they carry CDR of types both sides know by name, and
//! Fast DDS matches an endpoint that announces no TypeInformation by its type name (as DDS did
//! before XTypes, and as it does with ROS 2 vendors that send none). Without propagation, the
//! delegate announces none, so no peer asks it for types and rmw_shm_rs delegates never ask each
//! other. Registering keeps our own types known, so a stock peer's endpoint of a type we also
//! use needs no lookup either (`disabled` would register nothing and ask peers for every type).
//!
//! How: rmw_fastrtps creates its participant from Fast DDS's default participant profile, which
//! Fast DDS loads once per process, at the first participant, from the file named by
//! `FASTDDS_DEFAULT_PROFILES_FILE` (a real path: Fast DDS resolves it with `realpath`, so an
//! in-memory file cannot be used). Before the delegate's first participant, that variable points
//! at [`PROFILE_XML`] written to `rmw_shm_rs-<uid>/fastdds_delegate_profile.xml` under
//! `$XDG_RUNTIME_DIR` (else the temporary directory), a directory only this user can enter;
//! once the participant exists, the variable is removed again, so child processes do not
//! inherit it. The file is the same for every process of the user and stays for the next one.
//! A user's own profiles (`FASTDDS_DEFAULT_PROFILES_FILE`, the deprecated
//! `FASTRTPS_DEFAULT_PROFILES_FILE`, `DEFAULT_FASTDDS_PROFILES.xml` in the working directory, or
//! `SKIP_DEFAULT_XML`) are left alone and win; docs/remote.md says what to add to them.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The variable Fast DDS reads its default profiles file from.
const PROFILES_FILE: &str = "FASTDDS_DEFAULT_PROFILES_FILE";

/// What the delegate's participant gets: Fast DDS's defaults, types registered, not propagated.
pub const PROFILE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<dds xmlns="http://www.eprosima.com">
  <profiles>
    <participant profile_name="rmw_shm_rs_delegate" is_default_profile="true">
      <rtps>
        <propertiesPolicy>
          <properties>
            <property>
              <name>fastdds.type_propagation</name>
              <value>registration_only</value>
            </property>
          </properties>
        </propertiesPolicy>
      </rtps>
    </participant>
  </profiles>
</dds>
"#;

enum Stage {
    /// No delegate participant yet.
    Before,
    /// The variable points at the profile until the first participant exists.
    Installed,
    /// The first participant exists (or the user's profiles are in charge).
    Done,
}

static STAGE: Mutex<Stage> = Mutex::new(Stage::Before);

/// Why the user's own profiles configure the delegate instead, if they do.
fn users_profiles(var: impl Fn(&str) -> bool, cwd_file: bool) -> Option<&'static str> {
    if var(PROFILES_FILE) {
        Some("FASTDDS_DEFAULT_PROFILES_FILE is set")
    } else if var("FASTRTPS_DEFAULT_PROFILES_FILE") {
        Some("FASTRTPS_DEFAULT_PROFILES_FILE is set")
    } else if var("SKIP_DEFAULT_XML") {
        Some("SKIP_DEFAULT_XML is set")
    } else if cwd_file {
        Some("DEFAULT_FASTDDS_PROFILES.xml is in the working directory")
    } else {
        None
    }
}

/// Call before creating the delegate's context: points Fast DDS at [`PROFILE_XML`] for the
/// first participant, unless the user's profiles are in charge or this was done before.
pub fn before_first_participant() {
    let mut stage = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    if !matches!(*stage, Stage::Before) {
        return;
    }
    if !fast_dds_3_loaded() {
        *stage = Stage::Done;
        return;
    }
    let cwd_file = std::path::Path::new("DEFAULT_FASTDDS_PROFILES.xml").exists();
    if let Some(why) = users_profiles(|v| std::env::var_os(v).is_some(), cwd_file) {
        tracing::info!(target: "rmw_shm_rs::delegate", why,
            "the delegate uses the user's Fast DDS profiles (add fastdds.type_propagation=registration_only \
             to them, see docs/remote.md)");
        *stage = Stage::Done;
        return;
    }
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(std::env::temp_dir);
    match write_profile(&base)
        .and_then(|p| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other))
    {
        Ok(path) => {
            // SAFETY: setenv with valid C strings, before the delegate's first participant (the
            // usual caveat of other threads reading the environment meanwhile is accepted, as
            // for FASTDDS_BUILTIN_TRANSPORTS in context.rs); 0 = never overwrite.
            unsafe { libc::setenv(c"FASTDDS_DEFAULT_PROFILES_FILE".as_ptr(), path.as_ptr(), 0) };
            // Only ours is removed later (a value set meanwhile by someone else stays).
            let ours =
                std::env::var_os(PROFILES_FILE).is_some_and(|v| v.as_bytes() == path.as_bytes());
            *stage = if ours { Stage::Installed } else { Stage::Done };
        }
        Err(e) => {
            tracing::warn!(target: "rmw_shm_rs::delegate", error = %e,
                "cannot hand Fast DDS the delegate's profile; type propagation stays on");
            *stage = Stage::Done;
        }
    }
}

/// Call once a delegate participant exists (after a delegate node was created): Fast DDS has
/// loaded its default profiles for good, so the variable goes.
pub fn after_first_participant() {
    let mut stage = STAGE.lock().unwrap_or_else(|e| e.into_inner());
    if let Stage::Installed = *stage {
        // SAFETY: unsetenv with a valid C string; the value was set by us (see above).
        unsafe { libc::unsetenv(c"FASTDDS_DEFAULT_PROFILES_FILE".as_ptr()) };
        *stage = Stage::Done;
    }
}

/// Whether the process has Fast DDS 3 mapped (the delegate, loaded before this is called,
/// brings it in).
fn fast_dds_3_loaded() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|m| m.contains("/libfastdds.so.3"))
}

/// Writes [`PROFILE_XML`] (unless already there) to `<base>/rmw_shm_rs-<uid>/`, a directory
/// that must be this user's and closed to others; returns the file's path.
fn write_profile(base: &Path) -> std::io::Result<PathBuf> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = base.join(format!("rmw_shm_rs-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a directory of this user closed to others",
            dir.display()
        )));
    }
    let file = dir.join("fastdds_delegate_profile.xml");
    if std::fs::read(&file).ok().as_deref() != Some(PROFILE_XML.as_bytes()) {
        // Written aside and renamed: a process reading it meanwhile sees a whole file.
        let part = dir.join(format!(".fastdds_delegate_profile.{}", std::process::id()));
        std::fs::write(&part, PROFILE_XML)?;
        std::fs::rename(&part, &file)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_profiles_win_in_fast_dds_order() {
        let set = |names: &'static [&'static str]| move |v: &str| names.contains(&v);
        assert_eq!(users_profiles(set(&[]), false), None);
        assert!(
            users_profiles(set(&["FASTDDS_DEFAULT_PROFILES_FILE"]), false)
                .is_some_and(|w| w.starts_with("FASTDDS_DEFAULT"))
        );
        assert!(
            users_profiles(set(&["FASTRTPS_DEFAULT_PROFILES_FILE"]), false)
                .is_some_and(|w| w.starts_with("FASTRTPS_DEFAULT"))
        );
        assert!(users_profiles(set(&["SKIP_DEFAULT_XML"]), false)
            .is_some_and(|w| w.starts_with("SKIP")));
        assert!(users_profiles(set(&[]), true).is_some_and(|w| w.contains("working directory")));
    }

    #[test]
    fn the_profile_is_written_once_into_a_private_directory() {
        let base = std::env::temp_dir().join(format!("rmw_shm_rs_profile_{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let file = write_profile(&base).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, PROFILE_XML);
        assert!(text.contains("<name>fastdds.type_propagation</name>"));
        assert!(text.contains("<value>registration_only</value>"));
        assert!(text.contains(r#"is_default_profile="true""#));
        let dir = file.parent().unwrap();
        assert_eq!(std::fs::metadata(dir).unwrap().mode() & 0o777, 0o700);
        // Again: the same file, nothing else beside it.
        assert_eq!(write_profile(&base).unwrap(), file);
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
        // A directory others can enter is refused.
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert!(write_profile(&base).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
