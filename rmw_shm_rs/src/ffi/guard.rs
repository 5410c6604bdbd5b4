//! The panic boundary and the error reporting every exported function goes through.
//!
//! Each `rmw_*` export is written with [`rmw_export!`](crate::rmw_export): its body returns a
//! [`Result`](crate::error::Result); the macro runs it under `catch_unwind` (a panic that
//! reached the C boundary would abort the process), turns an error into the documented
//! `rmw_ret_t` and sets the rcutils error message, and checks at compile time that the Rust
//! signature equals the one bindgen read from the distro's rmw headers.

use std::any::Any;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result, RET_ERROR, RET_OK};
use crate::sys::rmw_ret_t;

/// Sets the thread's rcutils error state to `msg`, attributed to the rmw function `func`.
pub fn set_error_message(func: &str, msg: &str) {
    let text = format!("{func}: {msg}");
    let text = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: both strings are valid NUL-terminated C strings for the duration of the call;
    // rcutils copies them into its thread-local error state.
    unsafe { crate::sys::rcutils_set_error_state(text.as_ptr(), c"rmw_shm_rs".as_ptr(), 0) };
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Runs `body`, never letting a panic cross the C boundary; on failure sets the error message
/// (except for [`Error::Timeout`], which the rmw API treats as an ordinary outcome) and returns
/// the result the caller's C type expects, `on_error` for errors.
pub fn guard<T>(
    func: &str,
    on_error: impl FnOnce(&Error) -> T,
    body: impl FnOnce() -> Result<T>,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            if !matches!(e, Error::Timeout) {
                tracing::debug!(target: "rmw_shm_rs::ffi", "{func} failed: {e}");
                set_error_message(func, &e.to_string());
            }
            on_error(&e)
        }
        Err(p) => {
            let e = Error::Other(format!("internal panic: {}", panic_text(&*p)));
            set_error_message(func, &e.to_string());
            on_error(&e)
        }
    }
}

/// [`guard`] for functions returning `rmw_ret_t`.
pub fn guard_ret(func: &str, body: impl FnOnce() -> Result<()>) -> rmw_ret_t {
    guard(func, |e| e.ret(), || body().map(|()| RET_OK))
}

/// Maps a panic payload to `RMW_RET_ERROR`; used where only a code is wanted.
pub const PANIC_RET: rmw_ret_t = RET_ERROR;

/// Defines an exported `rmw_*` function.
///
/// `rmw_export!(fn rmw_x(a: A, b: B) -> rmw_ret_t { body })` exports `rmw_x` whose body (a
/// block evaluating to `Result<()>`) runs under [`guard_ret`]. The form
/// `rmw_export!(fn rmw_x(..) -> T = on_error_value; { body })` is for functions that return a
/// pointer or a bool, the body evaluating to `Result<T>`. Both forms assert at compile time that
/// the signature equals bindgen's declaration of the same function in [`crate::sys`].
///
/// An optional `forward(arg);` before `fn` names the primary handle argument: when it is an
/// object of the loaded DDS delegate (its implementation identifier), the call goes to the
/// delegate's own `rmw_x` with the same arguments and returns what it returns, unchanged
/// ([`crate::ffi::forward`]). When the delegate lacks the function, the error is set and the
/// form's error value returned.
#[macro_export]
macro_rules! rmw_export {
    (@forward [], $name:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty, $on_err:expr) => {};
    (@forward [$h:ident], $name:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty, $on_err:expr) => {
        // SAFETY: `$h` is null or an rmw handle passed by the caller (the function's contract).
        if let Some(delegate) = unsafe { $crate::ffi::forward::delegate_for($h) } {
            const NAME: &::std::ffi::CStr =
                match ::std::ffi::CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes()) {
                    Ok(name) => name,
                    Err(_) => panic!("an rmw function name has no NUL"),
                };
            return $crate::ffi::guard::guard(stringify!($name), $on_err, || {
                // SAFETY: the type is bindgen's declaration of `$name` (checked above), which
                // the delegate, an rmw implementation of the same distro, defines.
                let f = unsafe { delegate.sym::<unsafe extern "C" fn($($ty),*) -> $ret>(NAME)? };
                // SAFETY: the caller's arguments, unchanged, to the same function of the
                // implementation that made the handle.
                Ok(unsafe { f($($arg),*) })
            });
        }
    };
    ($(#[$m:meta])* $(forward($h:ident);)? fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> rmw_ret_t $body:block) => {
        $(#[$m])*
        ///
        /// # Safety
        /// Called from C: every pointer argument must be null or valid as the rmw header documents.
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $crate::sys::rmw_ret_t {
            const _: unsafe extern "C" fn($($ty),*) -> $crate::sys::rmw_ret_t = $crate::sys::$name;
            $crate::rmw_export!(@forward [$($h)?], $name, ($($arg: $ty),*) -> $crate::sys::rmw_ret_t,
                |e: &$crate::error::Error| e.ret());
            $crate::ffi::guard::guard_ret(stringify!($name), || $body)
        }
    };
    ($(#[$m:meta])* $(forward($h:ident);)? fn $name:ident($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty = $on_err:expr; $body:block) => {
        $(#[$m])*
        ///
        /// # Safety
        /// Called from C: every pointer argument must be null or valid as the rmw header documents.
        #[no_mangle]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            const _: unsafe extern "C" fn($($ty),*) -> $ret = $crate::sys::$name;
            $crate::rmw_export!(@forward [$($h)?], $name, ($($arg: $ty),*) -> $ret, |_| $on_err);
            $crate::ffi::guard::guard(stringify!($name), |_| $on_err, || $body)
        }
    };
}
