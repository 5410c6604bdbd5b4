/* The standard-install layout of rmw_shm_rs, emulated (issue 5; test/test_standard_layout.py).
 *
 * On a standard ROS 2 install nothing links an RMW: rcl links librmw_implementation.so, which loads
 * lib$RMW_IMPLEMENTATION.so by name with rcutils_load_shared_library(), i.e.
 * dlopen(name, RTLD_LAZY) (so RTLD_LOCAL), and calls its functions through dlsym. rmw_fastrtps_cpp
 * is then not in the process until our remote path loads it as its delegate.
 *
 * This program links no ROS library at all (only libc/libdl). It
 *   1. checks that no ROS library is loaded at start;
 *   2. loads the std_msgs C type support (as a program linked to its messages would have it);
 *   3. loads lib$RMW_IMPLEMENTATION.so by name, in one of three modes:
 *        local       dlopen(name, RTLD_LAZY)                 (what rcutils_load_shared_library does)
 *        global      dlopen(name, RTLD_LAZY | RTLD_GLOBAL)
 *        dispatcher  an emulated librmw_implementation (test/c/rmw_dispatcher.c) is loaded
 *                    RTLD_GLOBAL first, as if linked; it loads ours with RTLD_LAZY and every rmw
 *                    call of this program goes through its exports (the real standard layout)
 *      and reports, stage by stage, whether librmw_fastrtps_cpp.so is loaded (it must appear only
 *      once our library created its first endpoint) and where the global scope resolves the
 *      functions the delegate calls back;
 *   4. runs init, a node, a publisher on --pub-topic and a subscription on --sub-topic
 *      (std_msgs/String, default QoS), waits until a subscription matches the publisher (at most
 *      10 s; if the count stays 0 it goes on and fails at the end), polls rmw_get_node_names until
 *      our node and every --expect-node are listed, publishes --count messages "Hello from C: <i>"
 *      every 100 ms, takes (rmw_wait + rmw_take_with_info) until --count messages arrived, waits
 *      (bounded) for the remote subscription to leave, tears everything down, then unloads the
 *      library as rmw_implementation does at exit.
 *
 * Output lines the test reads: "stage <name>: rmw_fastrtps_cpp <no|loaded from PATH>",
 * "global scope: <function> -> <object|none>", "heard: '<data>'", "nodes: ...",
 * "delegate call-back through the dispatcher: <function> xN", "RESULT ok sent=N received=M".
 * Informational: the threads before/with/after the delegate, the dispatcher's call log.
 * Exit 0 on success, 1 on a failed check, 124 when --timeout expires.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <getopt.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rcutils/allocator.h"
#include "rcutils/error_handling.h"
#include "rcutils/types/string_array.h"
#include "rmw/init.h"
#include "rmw/init_options.h"
#include "rmw/qos_profiles.h"
#include "rmw/rmw.h"
#include "rmw/types.h"
#include "rosidl_runtime_c/string_functions.h"
#include "std_msgs/msg/detail/string__functions.h"
#include "std_msgs/msg/detail/string__struct.h"
#include "std_msgs/msg/detail/string__type_support.h"

#define FASTRTPS "librmw_fastrtps_cpp.so"

/* ---- small helpers ----------------------------------------------------------------------------- */

static void fail(const char * fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static void on_alarm(int sig)
{
  (void)sig;
  static const char msg[] = "standard_layout: WATCHDOG: timeout, exiting\n";
  (void)!write(1, msg, sizeof(msg) - 1);
  _exit(124);
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void * must_dlopen(const char * name, int flags)
{
  void * h = dlopen(name, flags);
  if (!h) {
    fail("dlopen(%s): %s", name, dlerror());
  }
  return h;
}

static void * must_sym(void * h, const char * name)
{
  dlerror();
  void * s = dlsym(h, name);
  const char * e = dlerror();
  if (!s || e) {
    fail("dlsym(%s): %s", name, e ? e : "null");
  }
  return s;
}

/* Loaded objects (dl_iterate_phdr), by substring of their path. */
struct find
{
  const char * needle;
  char path[1024];
  int found;
};

static int find_cb(struct dl_phdr_info * info, size_t size, void * data)
{
  (void)size;
  struct find * f = data;
  if (info->dlpi_name && strstr(info->dlpi_name, f->needle)) {
    if (!f->found) {
      snprintf(f->path, sizeof(f->path), "%s", info->dlpi_name);
    }
    f->found++;
  }
  return 0;
}

static bool loaded(const char * needle, char * path, size_t len)
{
  struct find f = {.needle = needle};
  dl_iterate_phdr(find_cb, &f);
  if (f.found && path) {
    snprintf(path, len, "%s", f.path);
  }
  return f.found > 0;
}

static const char * first_stage_loaded;

/* Threads of this process (Fast DDS adds about a dozen with its participant). */
static int thread_count(void)
{
  FILE * f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof(line), f)) {
    if (!strncmp(line, "Threads:", 8)) {
      n = atoi(line + 8);
    }
  }
  if (f) {
    fclose(f);
  }
  return n;
}

/* Prints whether rmw_fastrtps_cpp is loaded at this stage; remembers the first stage it is. */
static bool stage(const char * name)
{
  char path[1024];
  bool yes = loaded(FASTRTPS, path, sizeof(path));
  if (yes) {
    printf("stage %s: rmw_fastrtps_cpp loaded from %s\n", name, path);
    if (!first_stage_loaded) {
      first_stage_loaded = name;
    }
  } else {
    printf("stage %s: rmw_fastrtps_cpp no\n", name);
  }
  fflush(stdout);
  return yes;
}

static void describe_global(const char * name)
{
  void * s = dlsym(RTLD_DEFAULT, name);
  Dl_info info;
  if (!s) {
    printf("global scope: %s -> none (the delegate binds its own definition)\n", name);
  } else if (dladdr(s, &info) && info.dli_fname) {
    printf("global scope: %s -> %s\n", name, info.dli_fname);
  } else {
    printf("global scope: %s -> %p (unknown object)\n", name, s);
  }
}

/* ---- the functions, all through dlsym ------------------------------------------------------------ */

#define FN(name) static __typeof__(name) * p_##name;
/* rmw interface functions (from the RMW library, or the dispatcher) */
#define RMW_FNS(X) \
  X(rmw_get_implementation_identifier) X(rmw_init_options_init) X(rmw_init_options_fini) \
  X(rmw_init) X(rmw_shutdown) X(rmw_context_fini) X(rmw_create_node) X(rmw_destroy_node) \
  X(rmw_create_publisher) X(rmw_destroy_publisher) X(rmw_publish) \
  X(rmw_publisher_count_matched_subscriptions) X(rmw_create_subscription) \
  X(rmw_destroy_subscription) X(rmw_subscription_count_matched_publishers) \
  X(rmw_take_with_info) X(rmw_create_wait_set) X(rmw_destroy_wait_set) X(rmw_wait) \
  X(rmw_get_node_names)
/* helpers of librmw / librcutils (dependencies of the RMW library; rcl would link them) */
#define HELPER_FNS(X) \
  X(rmw_get_zero_initialized_init_options) X(rmw_get_zero_initialized_context) \
  X(rmw_get_default_publisher_options) X(rmw_get_default_subscription_options) \
  X(rcutils_get_default_allocator) X(rcutils_get_error_string) X(rcutils_reset_error) \
  X(rcutils_get_zero_initialized_string_array) X(rcutils_string_array_fini)
/* message functions (std_msgs C generator, rosidl runtime) */
#define MSG_FNS(X) \
  X(std_msgs__msg__String__init) X(std_msgs__msg__String__fini) \
  X(rosidl_runtime_c__String__assign)
RMW_FNS(FN) HELPER_FNS(FN) MSG_FNS(FN)
static const rosidl_message_type_support_t * (*p_string_ts)(void);

/* The emulated dispatcher's own functions (mode dispatcher). */
static void * (*p_emul_dispatcher_load)(const char *, int);
static size_t (*p_emul_dispatcher_calls)(const char *, const char *);
static void (*p_emul_dispatcher_report)(FILE *);

static const char * rmw_error(void)
{
  static rcutils_error_string_t s;
  s = p_rcutils_get_error_string();
  p_rcutils_reset_error();
  return s.str;
}

static void ok(rmw_ret_t r, const char * what)
{
  if (r != RMW_RET_OK) {
    fail("%s returned %d: %s", what, (int)r, rmw_error());
  }
}

/* ---- the program ------------------------------------------------------------------------------ */

#define MAX_EXPECT 8
/* Discovery on one host takes 0.1-0.5 s, 3-4 s when a first announcement is missed. */
#define MATCH_TIMEOUT 10

struct args
{
  const char * mode;
  const char * dispatcher;
  const char * pub_topic;
  const char * sub_topic;
  const char * node_name;
  int count;
  int timeout;
  const char * expect[MAX_EXPECT];
  int n_expect;
};

static void usage(void)
{
  fprintf(
    stderr,
    "usage: standard_layout --mode local|global|dispatcher [--dispatcher LIB] --pub-topic T "
    "--sub-topic T [--node NAME] [--count N] [--timeout S] [--expect-node NAME]...\n");
  exit(2);
}

static struct args parse(int argc, char ** argv)
{
  struct args a = {.mode = "local", .node_name = "std_layout_c", .count = 10, .timeout = 40};
  static const struct option opts[] = {
    {"mode", required_argument, 0, 'm'}, {"dispatcher", required_argument, 0, 'd'},
    {"pub-topic", required_argument, 0, 'p'}, {"sub-topic", required_argument, 0, 's'},
    {"node", required_argument, 0, 'n'}, {"count", required_argument, 0, 'c'},
    {"timeout", required_argument, 0, 't'}, {"expect-node", required_argument, 0, 'e'},
    {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
      case 'm': a.mode = optarg; break;
      case 'd': a.dispatcher = optarg; break;
      case 'p': a.pub_topic = optarg; break;
      case 's': a.sub_topic = optarg; break;
      case 'n': a.node_name = optarg; break;
      case 'c': a.count = atoi(optarg); break;
      case 't': a.timeout = atoi(optarg); break;
      case 'e':
        if (a.n_expect < MAX_EXPECT) {
          a.expect[a.n_expect++] = optarg;
        }
        break;
      default: usage();
    }
  }
  if (!a.pub_topic || !a.sub_topic) {
    usage();
  }
  if (strcmp(a.mode, "local") && strcmp(a.mode, "global") && strcmp(a.mode, "dispatcher")) {
    usage();
  }
  if (!strcmp(a.mode, "dispatcher") && !a.dispatcher) {
    usage();
  }
  return a;
}

/* Objects a program that links no ROS library must not have at start. */
static void check_no_ros_at_start(void)
{
  static const char * const ros[] = {
    "librcl", "librmw", "librcutils", "librosidl", "libfastdds", "libfastcdr", "rmw_shm_rs"};
  for (size_t i = 0; i < sizeof(ros) / sizeof(ros[0]); i++) {
    char path[1024];
    if (loaded(ros[i], path, sizeof(path))) {
      fail("%s is loaded at start (%s): the program must link no ROS library", ros[i], path);
    }
  }
  printf("start: no ROS library loaded (rcl, rmw, rcutils, rosidl, Fast DDS, rmw_shm_rs)\n");
}

static bool names_contain(const rcutils_string_array_t * names, const char * want)
{
  for (size_t i = 0; i < names->size; i++) {
    if (names->data[i] && !strcmp(names->data[i], want)) {
      return true;
    }
  }
  return false;
}

/* State of the exchange. */
static rmw_subscription_t * g_sub;
static rmw_wait_set_t * g_ws;
static int g_received;
static double g_t_first, g_t_last;

/* Waits up to `seconds` for data on the subscription, takes everything there is. */
static void spin(double seconds)
{
  void * entries[1] = {g_sub->data};
  rmw_subscriptions_t subs = {.subscriber_count = 1, .subscribers = entries};
  rmw_time_t timeout = {.sec = (uint64_t)seconds,
    .nsec = (uint64_t)((seconds - (uint64_t)seconds) * 1e9)};
  double t_wait = now_s();
  rmw_ret_t r = p_rmw_wait(&subs, NULL, NULL, NULL, NULL, g_ws, &timeout);
  t_wait = now_s() - t_wait;
  if (t_wait > seconds + 0.5) {
    printf("rmw_wait with a %.0f ms timeout took %.0f ms\n", seconds * 1e3, t_wait * 1e3);
  }
  if (r != RMW_RET_OK && r != RMW_RET_TIMEOUT) {
    fail("rmw_wait returned %d: %s", (int)r, rmw_error());
  }
  for (;;) {
    std_msgs__msg__String msg;
    if (!p_std_msgs__msg__String__init(&msg)) {
      fail("std_msgs__msg__String__init");
    }
    bool taken = false;
    rmw_message_info_t info;
    memset(&info, 0, sizeof(info));
    ok(p_rmw_take_with_info(g_sub, &msg, &taken, &info, NULL), "rmw_take_with_info");
    if (taken) {
      if (g_received == 0) {
        g_t_first = now_s();
      }
      g_t_last = now_s();
      g_received++;
      printf("heard: '%s'\n", msg.data.data ? msg.data.data : "");
      fflush(stdout);
    }
    p_std_msgs__msg__String__fini(&msg);
    if (!taken) {
      break;
    }
  }
}

static rmw_node_t * g_node;
static const struct args * g_args;
static bool g_graph_done;

/* Asks rmw_get_node_names once; true when our node and every --expect-node are listed. Prints
 * the first complete answer ("nodes: ...") or, when `final`, the incomplete one. */
static bool graph_poll(bool final)
{
  rcutils_string_array_t names = p_rcutils_get_zero_initialized_string_array();
  rcutils_string_array_t namespaces = p_rcutils_get_zero_initialized_string_array();
  ok(p_rmw_get_node_names(g_node, &names, &namespaces), "rmw_get_node_names");
  bool all = names_contain(&names, g_args->node_name);
  for (int i = 0; i < g_args->n_expect; i++) {
    all = all && names_contain(&names, g_args->expect[i]);
  }
  if ((all && !g_graph_done) || (final && !all)) {
    printf(all ? "nodes:" : "nodes (incomplete):");
    for (size_t i = 0; i < names.size; i++) {
      printf(" %s%s%s", namespaces.data[i], strcmp(namespaces.data[i], "/") ? "/" : "",
        names.data[i]);
    }
    printf("\n");
  }
  ok(p_rcutils_string_array_fini(&names), "rcutils_string_array_fini");
  ok(p_rcutils_string_array_fini(&namespaces), "rcutils_string_array_fini");
  g_graph_done = g_graph_done || all;
  return all;
}

int main(int argc, char ** argv)
{
  struct args a = parse(argc, argv);
  signal(SIGALRM, on_alarm);
  alarm((unsigned)a.timeout);
  setvbuf(stdout, NULL, _IOLBF, 0);

  /* 1. nothing of ROS in the process */
  check_no_ros_at_start();

  /* the emulated librmw_implementation is "linked": in the global scope from the start */
  void * disp = NULL;
  if (!strcmp(a.mode, "dispatcher")) {
    disp = must_dlopen(a.dispatcher, RTLD_NOW | RTLD_GLOBAL);
    p_emul_dispatcher_load = must_sym(disp, "emul_dispatcher_load");
    p_emul_dispatcher_calls = must_sym(disp, "emul_dispatcher_calls");
    p_emul_dispatcher_report = must_sym(disp, "emul_dispatcher_report");
  }

  /* 2. the message type support, as linked message packages would provide it */
  void * ts = must_dlopen("libstd_msgs__rosidl_typesupport_c.so", RTLD_LAZY | RTLD_GLOBAL);
  void * gen = must_dlopen("libstd_msgs__rosidl_generator_c.so", RTLD_LAZY | RTLD_GLOBAL);
  void * rt = must_dlopen("librosidl_runtime_c.so", RTLD_LAZY | RTLD_GLOBAL);
  p_string_ts = must_sym(ts,
      "rosidl_typesupport_c__get_message_type_support_handle__std_msgs__msg__String");
  p_std_msgs__msg__String__init = must_sym(gen, "std_msgs__msg__String__init");
  p_std_msgs__msg__String__fini = must_sym(gen, "std_msgs__msg__String__fini");
  p_rosidl_runtime_c__String__assign = must_sym(rt, "rosidl_runtime_c__String__assign");

  if (stage("before_rmw_load")) {
    fail("rmw_fastrtps_cpp is loaded before our library was");
  }

  /* 3. our library, by name, as rmw_implementation loads it */
  const char * impl = getenv("RMW_IMPLEMENTATION");
  if (!impl || !*impl) {
    fail("RMW_IMPLEMENTATION is not set");
  }
  char libname[256];
  snprintf(libname, sizeof(libname), "lib%s.so", impl);
  void * lib;
  double t_load = now_s();
  if (!strcmp(a.mode, "dispatcher")) {
    lib = p_emul_dispatcher_load(libname, RTLD_LAZY);
    if (!lib) {
      fail("the dispatcher could not load %s", libname);
    }
  } else {
    lib = must_dlopen(libname, RTLD_LAZY | (!strcmp(a.mode, "global") ? RTLD_GLOBAL : 0));
  }
  struct link_map * map = NULL;
  if (dlinfo(lib, RTLD_DI_LINKMAP, &map) == 0 && map) {
    printf("loaded %s from %s in %.1f ms (mode %s)\n", libname, map->l_name,
      (now_s() - t_load) * 1e3, a.mode);
  }
  if (stage("after_rmw_load")) {
    fail("loading %s loaded rmw_fastrtps_cpp at once (it must be lazy)", libname);
  }
  describe_global("rmw_init_options_copy");
  describe_global("rmw_init_options_fini");
  describe_global("rmw_get_publishers_info_by_topic");
  describe_global("rmw_get_subscriptions_info_by_topic");

  void * fns = disp ? disp : lib;
#define LOAD_RMW(name) p_##name = must_sym(fns, #name);
#define LOAD_HELPER(name) p_##name = must_sym(lib, #name);
  RMW_FNS(LOAD_RMW)
  HELPER_FNS(LOAD_HELPER)

  const char * id = p_rmw_get_implementation_identifier();
  printf("implementation identifier: %s\n", id ? id : "(null)");
  if (!id || strcmp(id, impl)) {
    fail("identifier %s, expected %s", id ? id : "(null)", impl);
  }

  /* 4. what rcl_init does */
  rcutils_allocator_t alloc = p_rcutils_get_default_allocator();
  rmw_init_options_t opts = p_rmw_get_zero_initialized_init_options();
  ok(p_rmw_init_options_init(&opts, alloc), "rmw_init_options_init");
  const char * domain = getenv("ROS_DOMAIN_ID");
  opts.domain_id = domain && *domain ? (size_t)strtoul(domain, NULL, 10) : 0;
  const char * range = getenv("ROS_AUTOMATIC_DISCOVERY_RANGE");
  opts.discovery_options.automatic_discovery_range =
    range && !strcmp(range, "LOCALHOST") ? RMW_AUTOMATIC_DISCOVERY_RANGE_LOCALHOST :
    range && !strcmp(range, "OFF") ? RMW_AUTOMATIC_DISCOVERY_RANGE_OFF :
    RMW_AUTOMATIC_DISCOVERY_RANGE_SUBNET;
  opts.enclave = alloc.allocate(2, alloc.state);
  memcpy(opts.enclave, "/", 2);
  rmw_context_t ctx = p_rmw_get_zero_initialized_context();
  ok(p_rmw_init(&opts, &ctx), "rmw_init");
  stage("after_rmw_init");

  rmw_node_t * node = p_rmw_create_node(&ctx, a.node_name, "/");
  if (!node) {
    fail("rmw_create_node: %s", rmw_error());
  }
  stage("after_create_node");
  int threads_before = thread_count();

  const rosidl_message_type_support_t * ts_string = p_string_ts();
  rmw_publisher_options_t pub_opts = p_rmw_get_default_publisher_options();
  rmw_publisher_t * pub =
    p_rmw_create_publisher(node, ts_string, a.pub_topic, &rmw_qos_profile_default, &pub_opts);
  if (!pub) {
    fail("rmw_create_publisher: %s", rmw_error());
  }
  bool after_pub = stage("after_create_publisher");
  rmw_subscription_options_t sub_opts = p_rmw_get_default_subscription_options();
  g_sub = p_rmw_create_subscription(node, ts_string, a.sub_topic, &rmw_qos_profile_default,
      &sub_opts);
  if (!g_sub) {
    fail("rmw_create_subscription: %s", rmw_error());
  }
  bool after_sub = stage("after_create_subscription");
  if (!after_pub || !after_sub) {
    fail("rmw_fastrtps_cpp is not loaded after the first endpoints: no remote path");
  }
  int threads_with = thread_count();
  g_ws = p_rmw_create_wait_set(&ctx, 1);
  if (!g_ws) {
    fail("rmw_create_wait_set: %s", rmw_error());
  }

  double t0 = now_s(), deadline = t0 + a.timeout - 5;

  /* a remote subscription matches the publisher (the stock listener); when the count stays 0,
   * go on anyway (the exchange shows whether only the count is wrong), fail at the end */
  size_t matched = 0;
  bool never_matched = false;
  while (matched == 0 && !never_matched) {
    ok(p_rmw_publisher_count_matched_subscriptions(pub, &matched),
      "rmw_publisher_count_matched_subscriptions");
    never_matched = matched == 0 && now_s() - t0 > MATCH_TIMEOUT;
    spin(0.02);
  }
  if (never_matched) {
    printf("publisher matched no subscription within %d s: publishing anyway\n", MATCH_TIMEOUT);
  } else {
    printf("publisher matched %zu subscription(s) after %.2f s\n", matched, now_s() - t0);
  }

  /* the graph: our node and the stock nodes, through our rmw_get_node_names (also polled
   * during the exchange: the stock talker may leave once it is done) */
  g_node = node;
  g_args = &a;
  while (!graph_poll(false) && now_s() - t0 < MATCH_TIMEOUT) {
    spin(0.05);
  }

  /* publish --count messages every 100 ms, take until --count arrived */
  int sent = 0;
  double next = now_s(), next_graph = next;
  while (sent < a.count || g_received < a.count) {
    if (now_s() > deadline) {
      fail("sent %d, received %d of %d before the deadline", sent, g_received, a.count);
    }
    if (sent < a.count && now_s() >= next) {
      std_msgs__msg__String msg;
      p_std_msgs__msg__String__init(&msg);
      char text[64];
      snprintf(text, sizeof(text), "Hello from C: %d", sent + 1);
      if (!p_rosidl_runtime_c__String__assign(&msg.data, text)) {
        fail("rosidl_runtime_c__String__assign");
      }
      double t_pub = now_s();
      ok(p_rmw_publish(pub, &msg, NULL), "rmw_publish");
      t_pub = now_s() - t_pub;
      p_std_msgs__msg__String__fini(&msg);
      sent++;
      printf("published: '%s' (at %.2f s, rmw_publish took %.1f ms)\n", text, now_s() - t0,
        t_pub * 1e3);
      next += 0.1;
    }
    spin(0.02);
    if (!g_graph_done && now_s() >= next_graph) {
      graph_poll(false);
      next_graph = now_s() + 0.2;
    }
  }
  printf("exchange done after %.2f s: sent %d, received %d (first %.2f s, last %.2f s)\n",
    now_s() - t0, sent, g_received, g_t_first - t0, g_t_last - t0);

  /* the reliable writer keeps unacknowledged samples: let the listener leave first (bounded) */
  double leave_deadline = now_s() + 8;
  do {
    ok(p_rmw_publisher_count_matched_subscriptions(pub, &matched),
      "rmw_publisher_count_matched_subscriptions");
    if (matched) {
      spin(0.05);
    }
  } while (matched && now_s() < leave_deadline);
  printf("remote subscription %s\n", matched ? "still matched (not waited for)" : "left");
  if (!g_graph_done && !graph_poll(true)) {
    fail("rmw_get_node_names never listed every expected node at once (the last answer is "
      "above)");
  }
  if (never_matched) {
    fail("rmw_publisher_count_matched_subscriptions never counted the subscription on %s within "
      "%d s (the exchange itself: sent %d, received %d)", a.pub_topic, MATCH_TIMEOUT, sent,
      g_received);
  }

  /* teardown, as rcl does it */
  ok(p_rmw_destroy_wait_set(g_ws), "rmw_destroy_wait_set");
  ok(p_rmw_destroy_subscription(node, g_sub), "rmw_destroy_subscription");
  ok(p_rmw_destroy_publisher(node, pub), "rmw_destroy_publisher");
  ok(p_rmw_destroy_node(node), "rmw_destroy_node");
  ok(p_rmw_shutdown(&ctx), "rmw_shutdown");
  ok(p_rmw_context_fini(&ctx), "rmw_context_fini");
  ok(p_rmw_init_options_fini(&opts), "rmw_init_options_fini");
  printf("teardown ok; rmw_fastrtps_cpp first loaded at stage %s\n",
    first_stage_loaded ? first_stage_loaded : "(never)");
  /* The delegate's context is finalized when its last user lets go, possibly on another thread
   * of ours: its participant's threads end then (a few process-wide Fast DDS threads stay). */
  double t_fini = now_s();
  int threads_after = thread_count();
  bool gone = false;
  for (;;) {
    threads_after = thread_count();
    gone = threads_after <= threads_before + (threads_with - threads_before) / 4;
    if (gone || now_s() - t_fini > 2) {
      break;
    }
    usleep(10000);
  }
  printf("threads: %d before the delegate, %d with it, %d after teardown (%s after %.2f s)\n",
    threads_before, threads_with, threads_after,
    gone ? "participant threads ended" : "participant threads still running", now_s() - t_fini);

  if (disp) {
    /* the delegate's rmw_context_fini calls rmw_init_options_fini through the global scope */
    double t_cb = now_s();
    while (p_emul_dispatcher_calls("rmw_init_options_fini", FASTRTPS) == 0 && now_s() - t_cb < 2) {
      usleep(10000);
    }
    static const char * const callbacks[] = {
      "rmw_init_options_copy", "rmw_init_options_fini", "rmw_get_publishers_info_by_topic",
      "rmw_get_subscriptions_info_by_topic"};
    p_emul_dispatcher_report(stdout);
    for (size_t i = 0; i < sizeof(callbacks) / sizeof(callbacks[0]); i++) {
      printf("delegate call-back through the dispatcher: %s x%zu\n", callbacks[i],
        p_emul_dispatcher_calls(callbacks[i], FASTRTPS));
    }
  }

  /* rmw_implementation's static shared library handle unloads the RMW at exit */
  int rc = dlclose(lib);
  printf("dlclose(%s): %s; still mapped afterwards: %s\n", libname, rc == 0 ? "ok" : dlerror(),
    loaded("librmw_shm_rs", NULL, 0) ? "yes" : "no");
  printf("RESULT ok sent=%d received=%d\n", sent, g_received);
  fflush(stdout);
  return 0;
}
