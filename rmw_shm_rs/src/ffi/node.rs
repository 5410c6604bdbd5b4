//! rmw/rmw.h nodes and guard conditions.

use std::ffi::{c_char, c_int};
use std::sync::Arc;

use super::handles::{entity, entity_arc, into_data, non_null, str_arg, take_data, IDENTIFIER};
use crate::entity::{GuardCondition, Node};
use crate::error::{Error, Result};
use crate::rmw_export;
use crate::sys::*;

/// The C side of a node: the handle rcl sees, followed by its graph guard condition's handle.
#[repr(C)]
struct NodeShell {
    node: rmw_node_t,
    graph_guard: rmw_guard_condition_t,
}

fn validate_node_name(name: &str, namespace: &str) -> Result<()> {
    let (mut result, mut index): (c_int, usize) = (0, 0);
    let cname =
        std::ffi::CString::new(name).map_err(|_| Error::invalid("node name contains NUL"))?;
    // SAFETY: valid C string and out-pointers.
    let r = unsafe { rmw_validate_node_name(cname.as_ptr(), &mut result, &mut index) };
    if r != crate::error::RET_OK || result != RMW_NODE_NAME_VALID as c_int {
        return Err(Error::invalid(format!(
            "invalid node name '{name}' (at index {index})"
        )));
    }
    let cns =
        std::ffi::CString::new(namespace).map_err(|_| Error::invalid("namespace contains NUL"))?;
    // SAFETY: valid C string and out-pointers.
    let r = unsafe { rmw_validate_namespace(cns.as_ptr(), &mut result, &mut index) };
    if r != crate::error::RET_OK || result != RMW_NAMESPACE_VALID as c_int {
        return Err(Error::invalid(format!(
            "invalid node namespace '{namespace}' (at index {index})"
        )));
    }
    Ok(())
}

rmw_export! {
    /// Creates a node (rmw/rmw.h). Returns null with an error message on failure.
    forward(context);
    fn rmw_create_node(context: *mut rmw_context_t, name: *const c_char, namespace_: *const c_char) -> *mut rmw_node_t = std::ptr::null_mut(); {
        // SAFETY: null or a context; checked by `entity_arc`.
        let ctx = unsafe { entity_arc(context.cast_const())? };
        // SAFETY: null or C strings.
        let (name, namespace) = unsafe { (str_arg(name, "name")?, str_arg(namespace_, "namespace")?) };
        validate_node_name(name, namespace)?;
        let node = Arc::new(Node::new(ctx, name, namespace)?);
        let graph_guard = into_data(node.graph_guard.clone());
        let shell = Box::new(NodeShell {
            node: rmw_node_t {
                implementation_identifier: IDENTIFIER.as_ptr(),
                data: std::ptr::null_mut(),
                name: node.name.as_ptr(),
                namespace_: node.namespace.as_ptr(),
                context,
            },
            graph_guard: rmw_guard_condition_t {
                implementation_identifier: IDENTIFIER.as_ptr(),
                data: graph_guard,
                context,
            },
        });
        let mut shell = shell;
        shell.node.data = into_data(node);
        Ok(Box::into_raw(shell).cast())
    }
}

rmw_export! {
    /// Destroys a node (rmw/rmw.h).
    forward(node);
    fn rmw_destroy_node(node: *mut rmw_node_t) -> rmw_ret_t {
        // SAFETY: null or a node; checked by `entity`.
        unsafe { entity(node.cast_const())? };
        // SAFETY: our node handles are the first field of a boxed `NodeShell`.
        let shell = unsafe { Box::from_raw(node.cast::<NodeShell>()) };
        // SAFETY: the data pointers were stored by rmw_create_node and are not used again.
        unsafe {
            drop(take_data::<GuardCondition>(shell.graph_guard.data));
            drop(take_data::<Node>(shell.node.data));
        }
        Ok(())
    }
}

rmw_export! {
    /// The node's graph guard condition, owned by the node (rmw/rmw.h).
    forward(node);
    fn rmw_node_get_graph_guard_condition(node: *const rmw_node_t) -> *const rmw_guard_condition_t = std::ptr::null(); {
        // SAFETY: null or a node; checked by `entity`.
        unsafe { entity(node)? };
        // SAFETY: our node handles are the first field of a `NodeShell`.
        Ok(unsafe { &raw const (*node.cast::<NodeShell>()).graph_guard })
    }
}

rmw_export! {
    /// Creates a guard condition (rmw/rmw.h).
    forward(context);
    fn rmw_create_guard_condition(context: *mut rmw_context_t) -> *mut rmw_guard_condition_t = std::ptr::null_mut(); {
        // SAFETY: null or a context; checked by `entity`.
        unsafe { entity(context.cast_const())? };
        let gc = Arc::new(GuardCondition::new()?);
        Ok(Box::into_raw(Box::new(rmw_guard_condition_t {
            implementation_identifier: IDENTIFIER.as_ptr(),
            data: into_data(gc),
            context,
        })))
    }
}

rmw_export! {
    /// Destroys a guard condition made by `rmw_create_guard_condition` (rmw/rmw.h).
    forward(guard_condition);
    fn rmw_destroy_guard_condition(guard_condition: *mut rmw_guard_condition_t) -> rmw_ret_t {
        // SAFETY: null or a guard condition; checked by `entity`.
        unsafe { entity(guard_condition.cast_const())? };
        // SAFETY: created by Box in rmw_create_guard_condition; its data is an Arc.
        let shell = unsafe { Box::from_raw(guard_condition) };
        // SAFETY: as above.
        drop(unsafe { take_data::<GuardCondition>(shell.data) });
        Ok(())
    }
}

rmw_export! {
    /// Triggers a guard condition (rmw/rmw.h); thread-safe.
    forward(guard_condition);
    fn rmw_trigger_guard_condition(guard_condition: *const rmw_guard_condition_t) -> rmw_ret_t {
        // SAFETY: null or a guard condition; checked by `entity`.
        let gc = unsafe { entity(guard_condition)? };
        gc.trigger();
        Ok(())
    }
}

/// Checks that `node` is a valid node handle of ours, for the `rmw_destroy_*(node, x)` family.
///
/// # Safety
/// `node` is null or a node handle.
pub(super) unsafe fn check_node(node: *const rmw_node_t) -> Result<&'static Node> {
    non_null(node, "node")?;
    // SAFETY: per the caller.
    unsafe { entity(node) }
}
