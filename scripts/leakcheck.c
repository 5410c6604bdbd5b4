// rcl talker and listener for scripts/leakcheck.sh (run under valgrind against rmw_shm_rs).
//
//   leakcheck listener [--count N]   subscribes to /leak_chatter (std_msgs/String) and serves
//                                    /leak_srv (test_msgs/srv/BasicTypes: int64_value + 1); exits
//                                    0 once it took N messages and answered one request
//   leakcheck talker [--count N]     waits for the listener (subscription matched, service
//                                    available), publishes N messages, calls the service once
//                                    and checks the answer
//
// Both use a guard condition and a wait set, and tear everything down in rcl's order before
// exiting, so that whatever the middleware still holds at exit is a leak, not an entity the
// program forgot. Exit codes: 0 ok, 2 an rcl call failed, 3 timeout (60 s of wall time,
// generous for valgrind).

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rcl/error_handling.h>
#include <rcl/graph.h>
#include <rcl/rcl.h>
#include <rmw/qos_profiles.h>
#include <rosidl_runtime_c/string_functions.h>
#include <std_msgs/msg/string.h>
#include <test_msgs/srv/basic_types.h>

#define TIMEOUT_NS (60LL * 1000000000LL)

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define CHECK(call)                                                              \
  do {                                                                           \
    rcl_ret_t ret_ = (call);                                                     \
    if (ret_ != RCL_RET_OK) {                                                    \
      fprintf(stderr, "leakcheck: %s failed (%d): %s\n", #call, (int)ret_,       \
              rcl_get_error_string().str);                                       \
      exit(2);                                                                   \
    }                                                                            \
  } while (0)

typedef struct {
  rcl_context_t context;
  rcl_node_t node;
  rcl_guard_condition_t gc;
  rcl_wait_set_t ws;
} base_t;

static rmw_qos_profile_t qos(void) {
  rmw_qos_profile_t q = rmw_qos_profile_default;  // reliable, keep last, volatile
  q.depth = 100;
  return q;
}

static void base_init(base_t *b, const char *name, size_t subs, size_t clients, size_t services) {
  rcl_allocator_t alloc = rcl_get_default_allocator();
  rcl_init_options_t opts = rcl_get_zero_initialized_init_options();
  CHECK(rcl_init_options_init(&opts, alloc));
  b->context = rcl_get_zero_initialized_context();
  CHECK(rcl_init(0, NULL, &opts, &b->context));
  CHECK(rcl_init_options_fini(&opts));
  b->node = rcl_get_zero_initialized_node();
  rcl_node_options_t nopts = rcl_node_get_default_options();
  CHECK(rcl_node_init(&b->node, name, "", &b->context, &nopts));
  b->gc = rcl_get_zero_initialized_guard_condition();
  CHECK(rcl_guard_condition_init(&b->gc, &b->context, rcl_guard_condition_get_default_options()));
  b->ws = rcl_get_zero_initialized_wait_set();
  CHECK(rcl_wait_set_init(&b->ws, subs, 1, 0, clients, services, 0, &b->context, alloc));
}

static void base_fini(base_t *b) {
  CHECK(rcl_wait_set_fini(&b->ws));
  CHECK(rcl_guard_condition_fini(&b->gc));
  CHECK(rcl_node_fini(&b->node));
  CHECK(rcl_shutdown(&b->context));
  CHECK(rcl_context_fini(&b->context));
}

static int listener(int count) {
  base_t b;
  base_init(&b, "leak_listener", 1, 0, 1);
  rcl_subscription_t sub = rcl_get_zero_initialized_subscription();
  rcl_subscription_options_t sopts = rcl_subscription_get_default_options();
  sopts.qos = qos();
  CHECK(rcl_subscription_init(&sub, &b.node, ROSIDL_GET_MSG_TYPE_SUPPORT(std_msgs, msg, String),
                              "/leak_chatter", &sopts));
  rcl_service_t srv = rcl_get_zero_initialized_service();
  rcl_service_options_t vopts = rcl_service_get_default_options();
  CHECK(rcl_service_init(&srv, &b.node, ROSIDL_GET_SRV_TYPE_SUPPORT(test_msgs, srv, BasicTypes),
                         "/leak_srv", &vopts));
  printf("listener: ready\n");
  fflush(stdout);

  std_msgs__msg__String msg;
  std_msgs__msg__String__init(&msg);
  test_msgs__srv__BasicTypes_Request req;
  test_msgs__srv__BasicTypes_Request__init(&req);
  test_msgs__srv__BasicTypes_Response resp;
  test_msgs__srv__BasicTypes_Response__init(&resp);
  int taken_count = 0, answered = 0;
  int64_t deadline = mono_ns() + TIMEOUT_NS;
  while ((taken_count < count || answered < 1) && mono_ns() < deadline) {
    CHECK(rcl_wait_set_clear(&b.ws));
    CHECK(rcl_wait_set_add_subscription(&b.ws, &sub, NULL));
    CHECK(rcl_wait_set_add_service(&b.ws, &srv, NULL));
    CHECK(rcl_wait_set_add_guard_condition(&b.ws, &b.gc, NULL));
    rcl_ret_t r = rcl_wait(&b.ws, RCL_MS_TO_NS(500));
    if (r == RCL_RET_TIMEOUT) continue;
    CHECK(r);
    for (;;) {
      rmw_message_info_t info;
      r = rcl_take(&sub, &msg, &info, NULL);
      if (r == RCL_RET_SUBSCRIPTION_TAKE_FAILED) break;
      CHECK(r);
      taken_count++;
    }
    rmw_service_info_t hdr;
    r = rcl_take_request_with_info(&srv, &hdr, &req);
    if (r == RCL_RET_OK) {
      resp.int64_value = req.int64_value + 1;
      CHECK(rosidl_runtime_c__String__assign(&resp.string_value, "answered") ? RCL_RET_OK
                                                                              : RCL_RET_ERROR);
      CHECK(rcl_send_response(&srv, &hdr.request_id, &resp));
      answered++;
    } else if (r != RCL_RET_SERVICE_TAKE_FAILED) {
      CHECK(r);
    }
  }
  printf("listener: took %d messages, answered %d requests, last '%s'\n", taken_count, answered,
         msg.data.data ? msg.data.data : "");
  // Let the talker take its response before the service goes away.
  usleep(500 * 1000);
  std_msgs__msg__String__fini(&msg);
  test_msgs__srv__BasicTypes_Request__fini(&req);
  test_msgs__srv__BasicTypes_Response__fini(&resp);
  CHECK(rcl_service_fini(&srv, &b.node));
  CHECK(rcl_subscription_fini(&sub, &b.node));
  base_fini(&b);
  return (taken_count >= count && answered >= 1) ? 0 : 3;
}

static int talker(int count) {
  base_t b;
  base_init(&b, "leak_talker", 0, 1, 0);
  rcl_publisher_t pub = rcl_get_zero_initialized_publisher();
  rcl_publisher_options_t popts = rcl_publisher_get_default_options();
  popts.qos = qos();
  CHECK(rcl_publisher_init(&pub, &b.node, ROSIDL_GET_MSG_TYPE_SUPPORT(std_msgs, msg, String),
                           "/leak_chatter", &popts));
  rcl_client_t cli = rcl_get_zero_initialized_client();
  rcl_client_options_t copts = rcl_client_get_default_options();
  CHECK(rcl_client_init(&cli, &b.node, ROSIDL_GET_SRV_TYPE_SUPPORT(test_msgs, srv, BasicTypes),
                        "/leak_srv", &copts));
  int64_t deadline = mono_ns() + TIMEOUT_NS;
  for (;;) {
    size_t matched = 0;
    bool available = false;
    CHECK(rcl_publisher_get_subscription_count(&pub, &matched));
    CHECK(rcl_service_server_is_available(&b.node, &cli, &available));
    if (matched >= 1 && available) break;
    if (mono_ns() > deadline) {
      fprintf(stderr, "talker: no listener within the timeout\n");
      return 3;
    }
    usleep(20 * 1000);
  }
  std_msgs__msg__String msg;
  std_msgs__msg__String__init(&msg);
  char text[64];
  for (int i = 1; i <= count; i++) {
    snprintf(text, sizeof text, "leak check %d", i);
    CHECK(rosidl_runtime_c__String__assign(&msg.data, text) ? RCL_RET_OK : RCL_RET_ERROR);
    CHECK(rcl_publish(&pub, &msg, NULL));
    usleep(10 * 1000);
  }
  std_msgs__msg__String__fini(&msg);

  test_msgs__srv__BasicTypes_Request req;
  test_msgs__srv__BasicTypes_Request__init(&req);
  req.int64_value = 41;
  int64_t seq = 0;
  CHECK(rcl_send_request(&cli, &req, &seq));
  test_msgs__srv__BasicTypes_Response resp;
  test_msgs__srv__BasicTypes_Response__init(&resp);
  bool answered = false;
  while (!answered && mono_ns() < deadline) {
    CHECK(rcl_wait_set_clear(&b.ws));
    CHECK(rcl_wait_set_add_client(&b.ws, &cli, NULL));
    CHECK(rcl_wait_set_add_guard_condition(&b.ws, &b.gc, NULL));
    rcl_ret_t r = rcl_wait(&b.ws, RCL_MS_TO_NS(500));
    if (r == RCL_RET_TIMEOUT) continue;
    CHECK(r);
    rmw_service_info_t hdr;
    r = rcl_take_response_with_info(&cli, &hdr, &resp);
    if (r == RCL_RET_OK) {
      answered = hdr.request_id.sequence_number == seq && resp.int64_value == 42;
      if (!answered) {
        fprintf(stderr, "talker: wrong response %lld\n", (long long)resp.int64_value);
        return 2;
      }
    } else if (r != RCL_RET_CLIENT_TAKE_FAILED) {
      CHECK(r);
    }
  }
  printf("talker: published %d messages, response %s\n", count, answered ? "42" : "missing");
  test_msgs__srv__BasicTypes_Request__fini(&req);
  test_msgs__srv__BasicTypes_Response__fini(&resp);
  CHECK(rcl_client_fini(&cli, &b.node));
  CHECK(rcl_publisher_fini(&pub, &b.node));
  base_fini(&b);
  return answered ? 0 : 3;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: leakcheck talker|listener [--count N]\n");
    return 1;
  }
  int count = 50;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--count") == 0) count = atoi(argv[i + 1]);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (strcmp(argv[1], "talker") == 0) return talker(count);
  if (strcmp(argv[1], "listener") == 0) return listener(count);
  fprintf(stderr, "leakcheck: unknown mode %s\n", argv[1]);
  return 1;
}
