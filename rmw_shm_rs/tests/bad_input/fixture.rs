//! The live objects the valid arguments of `bad_input.rs` point to: one context (domain 242, no DDS
//! participant) with a node, publisher, subscription, service, client, guard condition, wait set,
//! event and messages.

use std::any::Any;
use std::ffi::c_void;

use rmw_shm_rs::error::*;
use rmw_shm_rs::sys::*;

use super::common::{self, basic_types::Srv, error_text, StringType};
use super::{ffi, DOMAIN};

/// Live objects of one context, and the storage of the arguments built for one call.
pub struct Fixture {
    pub ctx: common::Ctx,
    pub node: *mut rmw_node_t,
    pub publisher: *mut rmw_publisher_t,
    pub subscription: *mut rmw_subscription_t,
    pub service: *mut rmw_service_t,
    pub client: *mut rmw_client_t,
    pub guard_condition: *mut rmw_guard_condition_t,
    pub wait_set: *mut rmw_wait_set_t,
    pub event: Box<rmw_event_t>,
    pub gid: rmw_gid_t,
    pub string: StringType,
    pub srv: Srv,
    pub message: *mut rosidl_runtime_c__String,
    pub request: *mut c_void,
    pub response: *mut c_void,
    pub serialized: Box<rmw_serialized_message_t>,
    /// What the arguments of the current call point to; emptied after each call.
    pub arena: Vec<Box<dyn Any>>,
}

impl Fixture {
    pub fn new() -> Self {
        let string = StringType::load();
        let srv = Srv::load();
        let mut ctx = common::init(DOMAIN);
        let qos = valid_qos();
        let context: *mut rmw_context_t = &mut *ctx.context;
        // SAFETY: the C ABI with valid arguments, as rcl calls it.
        unsafe {
            let node = ffi::rmw_create_node(context, c"bad_input".as_ptr(), c"/".as_ptr());
            assert!(!node.is_null(), "{}", error_text());
            let publisher = ffi::rmw_create_publisher(
                node,
                string.ts,
                c"/bad_input".as_ptr(),
                &qos,
                &rmw_publisher_options_t::default(),
            );
            assert!(!publisher.is_null(), "{}", error_text());
            let subscription = ffi::rmw_create_subscription(
                node,
                string.ts,
                c"/bad_input".as_ptr(),
                &qos,
                &rmw_subscription_options_t::default(),
            );
            assert!(!subscription.is_null(), "{}", error_text());
            let service = ffi::rmw_create_service(node, srv.ts, c"/bad_input_srv".as_ptr(), &qos);
            assert!(!service.is_null(), "{}", error_text());
            let client = ffi::rmw_create_client(node, srv.ts, c"/bad_input_srv".as_ptr(), &qos);
            assert!(!client.is_null(), "{}", error_text());
            let guard_condition = ffi::rmw_create_guard_condition(context);
            assert!(!guard_condition.is_null(), "{}", error_text());
            let wait_set = ffi::rmw_create_wait_set(context, 4);
            assert!(!wait_set.is_null(), "{}", error_text());
            let mut event = Box::new(rmw_get_zero_initialized_event());
            assert_eq!(
                ffi::rmw_subscription_event_init(
                    &mut *event,
                    subscription,
                    rmw_event_type_e_RMW_EVENT_SUBSCRIPTION_MATCHED
                ),
                RET_OK
            );
            let mut gid = rmw_gid_t::default();
            assert_eq!(ffi::rmw_get_gid_for_publisher(publisher, &mut gid), RET_OK);
            let message = string.new_msg("bad input");
            let mut serialized = Box::new(rcutils_uint8_array_t::default());
            assert_eq!(
                rcutils_uint8_array_init(&mut *serialized, 0, &rcutils_get_default_allocator()),
                RET_OK
            );
            assert_eq!(
                ffi::rmw_serialize(message.cast(), string.ts, &mut *serialized),
                RET_OK
            );
            let request = (srv.create[0])().cast();
            let response = (srv.create[1])().cast();
            Fixture {
                ctx,
                node,
                publisher,
                subscription,
                service,
                client,
                guard_condition,
                wait_set,
                event,
                gid,
                string,
                srv,
                message,
                request,
                response,
                serialized,
                arena: Vec::new(),
            }
        }
    }

    pub fn keep<T: 'static>(&mut self, value: T) -> *mut T {
        let mut b = Box::new(value);
        let p: *mut T = &mut *b;
        self.arena.push(b);
        p
    }

    pub fn context(&mut self) -> *mut rmw_context_t {
        &mut *self.ctx.context
    }

    pub fn options(&mut self) -> *mut rmw_init_options_t {
        &mut *self.ctx.options
    }

    pub fn fini(self) {
        // SAFETY: the objects created by `new`, destroyed once, in rcl's order.
        unsafe {
            assert_eq!(ffi::rmw_destroy_wait_set(self.wait_set), RET_OK);
            assert_eq!(
                ffi::rmw_destroy_guard_condition(self.guard_condition),
                RET_OK
            );
            assert_eq!(ffi::rmw_destroy_client(self.node, self.client), RET_OK);
            assert_eq!(ffi::rmw_destroy_service(self.node, self.service), RET_OK);
            assert_eq!(
                ffi::rmw_destroy_subscription(self.node, self.subscription),
                RET_OK
            );
            assert_eq!(
                ffi::rmw_destroy_publisher(self.node, self.publisher),
                RET_OK
            );
            assert_eq!(ffi::rmw_destroy_node(self.node), RET_OK);
            (self.string.destroy)(self.message);
            (self.srv.destroy[0])(self.request.cast());
            (self.srv.destroy[1])(self.response.cast());
            let mut serialized = self.serialized;
            assert_eq!(rcutils_uint8_array_fini(&mut *serialized), RET_OK);
        }
        common::fini(self.ctx);
    }
}

pub fn valid_qos() -> rmw_qos_profile_t {
    rmw_qos_profile_t {
        history: rmw_qos_history_policy_e_RMW_QOS_POLICY_HISTORY_KEEP_LAST,
        depth: 10,
        reliability: rmw_qos_reliability_policy_e_RMW_QOS_POLICY_RELIABILITY_RELIABLE,
        durability: rmw_qos_durability_policy_e_RMW_QOS_POLICY_DURABILITY_VOLATILE,
        ..Default::default()
    }
}
