// rcl-level loaned-message ping-pong for fixed-size message types (issue 4: "loaned-message
// latency flat (within 20%) from 64 B to 4 MiB").
//
// Two processes: "pong" echoes, "ping" measures.
//
//   pingpong_loan pong [--prefix /bench] [--depth 4] [--idle-exit 120]
//   pingpong_loan ping [--prefix /bench] [--depth 4] [--sizes 64,4096,...] [--rounds 5000,...]
//                      [--warmup-frac 0.1] [--quit] [--dump PREFIX]
//
// Message types: the wheels ship no fixed-size type of these sizes, so this file defines one per
// payload size N in 64, 4096, 65536, 1048576, 4194304 by hand, as a
// rosidl_typesupport_introspection_c type support: bench_msgs/msg/Fixed<N>, a C struct of exactly
// N bytes
//   uint64 command; uint64 seq; int64 stamp_ns; uint8[N - 24] data
// (no strings, no sequences: a "plain" type, which rmw_shm_rs lends). RMWs that need generated
// type support of their own cannot load it: rmw_fastrtps_cpp wants rosidl_typesupport_fastrtps_c
// / _cpp handles and fails in rcl_publisher_init ("Type support not from this implementation").
// So this benchmark runs on rmw_shm_rs only.
//
// rcl (Jazzy and later) creates subscriptions with loaned takes disabled unless
// ROS_DISABLE_LOANED_MESSAGES=0; both ends here set disable_loaned_message = false in their
// options instead, then check rcl_{publisher,subscription}_can_loan_messages.
//
// Protocol, one topic pair per size: ping publishes on <prefix>/ping<N>, pong replies on
// <prefix>/pong<N>; QoS reliable, keep last <depth>, volatile. Every message is loaned:
//   ping: rcl_borrow_loaned_message, write the header fields only (command, seq, stamp_ns; the
//         payload is never touched: that is the point of a zero-copy path),
//         rcl_publish_loaned_message; rcl_wait, rcl_take_loaned_message of the reply, check it,
//         rcl_return_loaned_message_from_subscription.
//   pong: rcl_take_loaned_message; borrow a loan on the reply topic, copy the header fields into
//         it, rcl_publish_loaned_message; return the taken loan.
// Commands: ECHO (pong echoes the header), SYNC (pong replies with its process CPU time
// (CLOCK_PROCESS_CPUTIME_ID) in stamp_ns), QUIT.
//
// Per size: warm-up round trips (--warmup-frac of N, at least 20), then N timed round trips. One
// round trip = ping's borrow .. the reply's loaned take (CLOCK_MONOTONIC); one-way latency =
// round trip / 2. borrow_median = the median time of ping's rcl_borrow_loaned_message alone. CPU
// per round trip of each process = its CLOCK_PROCESS_CPUTIME_ID delta over the timed loop / N
// (pong's comes back in two SYNC replies around the loop); cpu_msg = (ping + pong) / 2.
//
// Output: one line per size on stdout, `LOAN key=value ...`, times in microseconds; diagnostics
// on stderr. Exit status 4 when the RMW does not lend messages for these types.

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rcl/error_handling.h>
#include <rcl/rcl.h>
#include <rmw/qos_profiles.h>
#include <rmw/rmw.h>
#include <rosidl_runtime_c/message_type_support_struct.h>
#include <rosidl_typesupport_introspection_c/field_types.h>
#include <rosidl_typesupport_introspection_c/identifier.h>
#include <rosidl_typesupport_introspection_c/message_introspection.h>

enum { CMD_ECHO = 1, CMD_SYNC = 3, CMD_QUIT = 5 };

#define MAX_SIZES 16

// ------------------------------------------------------------------------------------------
// The fixed-size message types
// ------------------------------------------------------------------------------------------

// The first 24 bytes of every Fixed<N>: what ping and pong read and write.
typedef struct {
  uint64_t command;
  uint64_t seq;
  int64_t stamp_ns;
} fixed_header_t;

// Like a generated init function: the fields have no defaults, so only the header is set (the
// RMW hands out zeroed samples anyway). Nothing to finalize: the struct owns nothing.
static void fixed_init(void *msg, enum rosidl_runtime_c__message_initialization how) {
  (void)how;
  memset(msg, 0, sizeof(fixed_header_t));
}

static void fixed_fini(void *msg) { (void)msg; }

// Empty sources: rcl's type cache copies them (rcl_convert_type_source_sequence_runtime_to_msg).
static const rosidl_runtime_c__type_description__TypeSource__Sequence fixed_sources = {NULL, 0, 0};

static const rosidl_runtime_c__type_description__TypeSource__Sequence *fixed_sources_fn(
    const rosidl_message_type_support_t *ts) {
  (void)ts;
  return &fixed_sources;
}

// One introspection member: field NAME at T's member F, of type ID, an array of ARR (0: none).
#define MEMBER(T, NAME, F, ID, ARR)                                                             \
  {NAME, rosidl_typesupport_introspection_c__ROS_TYPE_##ID, 0, NULL, false, (ARR) > 0, (ARR),   \
   false, offsetof(T, F), NULL, NULL, NULL, NULL, NULL, NULL, NULL}

// Defines bench_msgs/msg/Fixed<N>: the struct, its introspection members, a RIHS01-style hash
// (version 1, made-up bytes that differ per size), a type description that holds only the type
// name (rcl's type cache copies the name: it must not be null), and the type support handle,
// fixed<N>_ts (its identifier is set at run time: fixed_types_init).
#define FIXED_TYPE(N)                                                                           \
  typedef struct {                                                                              \
    fixed_header_t h;                                                                           \
    uint8_t data[(N) - sizeof(fixed_header_t)];                                                 \
  } bench_msgs__msg__Fixed##N;                                                                  \
  _Static_assert(sizeof(bench_msgs__msg__Fixed##N) == (N), "Fixed" #N " is not " #N " bytes");  \
  static const rosidl_typesupport_introspection_c__MessageMember fixed##N##_members[4] = {      \
      MEMBER(bench_msgs__msg__Fixed##N, "command", h.command, UINT64, 0),                       \
      MEMBER(bench_msgs__msg__Fixed##N, "seq", h.seq, UINT64, 0),                               \
      MEMBER(bench_msgs__msg__Fixed##N, "stamp_ns", h.stamp_ns, INT64, 0),                      \
      MEMBER(bench_msgs__msg__Fixed##N, "data", data, UINT8, (N) - sizeof(fixed_header_t)),     \
  };                                                                                            \
  static const rosidl_typesupport_introspection_c__MessageMembers fixed##N##_mm = {             \
      "bench_msgs__msg", "Fixed" #N, 4, sizeof(bench_msgs__msg__Fixed##N), false,               \
      fixed##N##_members, fixed_init, fixed_fini};                                              \
  static const rosidl_type_hash_t fixed##N##_hash = {                                           \
      1, {0xbe, 0x7c, 0x40, 0xa7, (uint8_t)((N) >> 24), (uint8_t)((N) >> 16),                   \
          (uint8_t)((N) >> 8), (uint8_t)(N)}};                                                  \
  static const rosidl_type_hash_t *fixed##N##_hash_fn(const rosidl_message_type_support_t *t) { \
    (void)t;                                                                                    \
    return &fixed##N##_hash;                                                                    \
  }                                                                                             \
  static char fixed##N##_name[] = "bench_msgs/msg/Fixed" #N;                                    \
  static const rosidl_runtime_c__type_description__TypeDescription fixed##N##_desc = {          \
      .type_description = {.type_name = {fixed##N##_name, sizeof fixed##N##_name - 1,           \
                                         sizeof fixed##N##_name}}};                             \
  static const rosidl_runtime_c__type_description__TypeDescription *fixed##N##_desc_fn(         \
      const rosidl_message_type_support_t *t) {                                                 \
    (void)t;                                                                                    \
    return &fixed##N##_desc;                                                                    \
  }                                                                                             \
  static rosidl_message_type_support_t fixed##N##_ts = {                                        \
      NULL, &fixed##N##_mm, get_message_typesupport_handle_function, fixed##N##_hash_fn,        \
      fixed##N##_desc_fn, fixed_sources_fn};

FIXED_TYPE(64)
FIXED_TYPE(4096)
FIXED_TYPE(65536)
FIXED_TYPE(1048576)
FIXED_TYPE(4194304)

typedef struct {
  size_t size;
  rosidl_message_type_support_t *ts;
} fixed_type_t;

static fixed_type_t FIXED_TYPES[] = {
    {64, &fixed64_ts},           {4096, &fixed4096_ts},       {65536, &fixed65536_ts},
    {1048576, &fixed1048576_ts}, {4194304, &fixed4194304_ts},
};
#define N_TYPES (sizeof FIXED_TYPES / sizeof FIXED_TYPES[0])

// rosidl_typesupport_introspection_c__identifier is a variable of its library: not a constant
// for a static initializer.
static void fixed_types_init(void) {
  for (size_t i = 0; i < N_TYPES; i++) {
    FIXED_TYPES[i].ts->typesupport_identifier = rosidl_typesupport_introspection_c__identifier;
  }
}

static const rosidl_message_type_support_t *fixed_type(size_t size) {
  for (size_t i = 0; i < N_TYPES; i++) {
    if (FIXED_TYPES[i].size == size) return FIXED_TYPES[i].ts;
  }
  fprintf(stderr, "pingpong_loan: no fixed-size type of %zu bytes (64, 4096, 65536, 1048576, "
          "4194304)\n", size);
  exit(1);
}

// ------------------------------------------------------------------------------------------
// rcl plumbing
// ------------------------------------------------------------------------------------------

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die_rcl(const char *what, rcl_ret_t ret) {
  fprintf(stderr, "pingpong_loan: %s failed (%d): %s\n", what, (int)ret,
          rcl_get_error_string().str);
  exit(2);
}

#define CHECK(call)           \
  do {                        \
    rcl_ret_t ret_ = (call);  \
    if (ret_ != RCL_RET_OK) { \
      die_rcl(#call, ret_);   \
    }                         \
  } while (0)

// Teardown errors do not matter to the measurements: reported, not fatal.
#define SOFT(call)                                                                 \
  do {                                                                             \
    if ((call) != RCL_RET_OK) {                                                    \
      fprintf(stderr, "pingpong_loan: %s: %s\n", #call, rcl_get_error_string().str); \
      rcl_reset_error();                                                           \
    }                                                                              \
  } while (0)

// One size's topic pair.
typedef struct {
  size_t size;
  const rosidl_message_type_support_t *ts;
  rcl_publisher_t pub;
  rcl_subscription_t sub;
} endpoint_t;

typedef struct {
  rcl_context_t context;
  rcl_node_t node;
  rcl_wait_set_t ws;
  endpoint_t ep[MAX_SIZES];
  int n_ep;
  const char *rmw;
} bench_t;

static void node_init(bench_t *b, const char *node_name) {
  rcl_init_options_t opts = rcl_get_zero_initialized_init_options();
  CHECK(rcl_init_options_init(&opts, rcl_get_default_allocator()));
  b->context = rcl_get_zero_initialized_context();
  CHECK(rcl_init(0, NULL, &opts, &b->context));
  CHECK(rcl_init_options_fini(&opts));
  b->node = rcl_get_zero_initialized_node();
  rcl_node_options_t nopts = rcl_node_get_default_options();
  CHECK(rcl_node_init(&b->node, node_name, "", &b->context, &nopts));
  b->rmw = rcl_node_get_rmw_handle(&b->node)->implementation_identifier;
}

static rmw_qos_profile_t bench_qos(int depth) {
  rmw_qos_profile_t qos = rmw_qos_profile_default;
  qos.history = RMW_QOS_POLICY_HISTORY_KEEP_LAST;
  qos.depth = (size_t)depth;
  qos.reliability = RMW_QOS_POLICY_RELIABILITY_RELIABLE;
  qos.durability = RMW_QOS_POLICY_DURABILITY_VOLATILE;
  return qos;
}

static void publisher_init(bench_t *b, endpoint_t *e, const char *topic, int depth) {
  e->pub = rcl_get_zero_initialized_publisher();
  rcl_publisher_options_t popts = rcl_publisher_get_default_options();
  popts.qos = bench_qos(depth);
  popts.disable_loaned_message = false;
  rcl_ret_t ret = rcl_publisher_init(&e->pub, &b->node, e->ts, topic, &popts);
  if (ret != RCL_RET_OK) {
    fprintf(stderr, "pingpong_loan: %s cannot load the hand-written introspection type support "
            "(rmw_fastrtps_cpp needs rosidl_typesupport_fastrtps handles): only rmw_shm_rs runs "
            "this benchmark\n", b->rmw);
    die_rcl("rcl_publisher_init", ret);
  }
}

static void subscription_init(bench_t *b, endpoint_t *e, const char *topic, int depth) {
  e->sub = rcl_get_zero_initialized_subscription();
  rcl_subscription_options_t sopts = rcl_subscription_get_default_options();
  sopts.qos = bench_qos(depth);
  // rcl (Jazzy and later) disables loaned takes by default unless ROS_DISABLE_LOANED_MESSAGES=0.
  sopts.disable_loaned_message = false;
  CHECK(rcl_subscription_init(&e->sub, &b->node, e->ts, topic, &sopts));
}

// Fails loudly when the RMW would not lend: the benchmark would measure nothing of interest.
static void require_loans(bench_t *b, const endpoint_t *e) {
  bool pub = rcl_publisher_can_loan_messages(&e->pub);
  bool sub = rcl_subscription_can_loan_messages(&e->sub);
  if (!pub || !sub) {
    fprintf(stderr, "pingpong_loan: %s does not lend Fixed%zu messages (publisher can_loan %d, "
            "subscription can_loan %d)\n", b->rmw, e->size, (int)pub, (int)sub);
    exit(4);
  }
}

// Adds the topic pair of `size`: publish on <prefix>/<out><size>, subscribe to <prefix>/<in><size>.
static void add_endpoint(bench_t *b, const char *prefix, const char *out, const char *in,
                         size_t size, int depth) {
  endpoint_t *e = &b->ep[b->n_ep++];
  char pt[256], st[256];
  snprintf(pt, sizeof pt, "%s/%s%zu", prefix, out, size);
  snprintf(st, sizeof st, "%s/%s%zu", prefix, in, size);
  e->size = size;
  e->ts = fixed_type(size);
  publisher_init(b, e, pt, depth);
  subscription_init(b, e, st, depth);
  require_loans(b, e);
}

static void wait_set_init(bench_t *b) {
  b->ws = rcl_get_zero_initialized_wait_set();
  CHECK(rcl_wait_set_init(&b->ws, (size_t)b->n_ep, 0, 0, 0, 0, 0, &b->context,
                          rcl_get_default_allocator()));
}

static void bench_fini(bench_t *b) {
  SOFT(rcl_wait_set_fini(&b->ws));
  for (int i = 0; i < b->n_ep; i++) {
    SOFT(rcl_subscription_fini(&b->ep[i].sub, &b->node));
    SOFT(rcl_publisher_fini(&b->ep[i].pub, &b->node));
  }
  SOFT(rcl_node_fini(&b->node));
  SOFT(rcl_shutdown(&b->context));
  SOFT(rcl_context_fini(&b->context));
}

// Waits up to timeout_ns for data on the subscriptions of endpoints [first, first + count).
// Returns true when one has data; b->ws.subscriptions[k] (null: not ready) tells which.
static bool wait_subs(bench_t *b, int first, int count, int64_t timeout_ns) {
  CHECK(rcl_wait_set_clear(&b->ws));
  for (int i = first; i < first + count; i++) {
    CHECK(rcl_wait_set_add_subscription(&b->ws, &b->ep[i].sub, NULL));
  }
  rcl_ret_t ret = rcl_wait(&b->ws, timeout_ns < 0 ? 0 : timeout_ns);
  if (ret == RCL_RET_TIMEOUT) {
    rcl_reset_error();
    return false;
  }
  if (ret != RCL_RET_OK) die_rcl("rcl_wait", ret);
  return true;
}

// Takes one message as a loan; null when there was none.
static const fixed_header_t *take_loan(endpoint_t *e) {
  void *msg = NULL;
  rcl_ret_t ret = rcl_take_loaned_message(&e->sub, &msg, NULL, NULL);
  if (ret == RCL_RET_SUBSCRIPTION_TAKE_FAILED) {
    rcl_reset_error();
    return NULL;
  }
  if (ret != RCL_RET_OK) die_rcl("rcl_take_loaned_message", ret);
  return msg;
}

static void return_loan(endpoint_t *e, const fixed_header_t *msg) {
  CHECK(rcl_return_loaned_message_from_subscription(&e->sub, (void *)msg));
}

// Borrows a message, writes its header (only), publishes it loaned.
static void publish_loan(endpoint_t *e, uint64_t cmd, uint64_t seq, int64_t stamp) {
  void *msg = NULL;
  CHECK(rcl_borrow_loaned_message(&e->pub, e->ts, &msg));
  fixed_header_t *h = msg;
  h->command = cmd;
  h->seq = seq;
  h->stamp_ns = stamp;
  CHECK(rcl_publish_loaned_message(&e->pub, msg, NULL));
}

// ------------------------------------------------------------------------------------------
// pong
// ------------------------------------------------------------------------------------------

// Answers one message taken on endpoint e. Returns false on QUIT.
static bool pong_handle(endpoint_t *e, const fixed_header_t *in) {
  switch (in->command) {
    case CMD_ECHO:
      publish_loan(e, in->command, in->seq, in->stamp_ns);
      return true;
    case CMD_SYNC:
      publish_loan(e, CMD_SYNC, in->seq, cpu_ns());
      return true;
    case CMD_QUIT:
      return false;
    default:
      fprintf(stderr, "pong: unknown command %" PRIu64 "\n", in->command);
      return true;
  }
}

// Takes and answers everything waiting on endpoint e. Returns false on QUIT.
static bool pong_drain(endpoint_t *e) {
  bool go_on = true;
  const fixed_header_t *in;
  while (go_on && (in = take_loan(e)) != NULL) {
    go_on = pong_handle(e, in);
    return_loan(e, in);
  }
  return go_on;
}

static int run_pong(const char *prefix, int depth, int idle_exit_s) {
  bench_t b = {0};
  node_init(&b, "bench_pong_loan");
  for (size_t i = 0; i < N_TYPES; i++) {
    add_endpoint(&b, prefix, "pong", "ping", FIXED_TYPES[i].size, depth);
  }
  wait_set_init(&b);
  fprintf(stderr, "pong: rmw %s, echoing %s/ping<N> -> %s/pong<N> loaned, pid %d\n", b.rmw,
          prefix, prefix, (int)getpid());
  int64_t last_msg = mono_ns();
  bool go_on = true;
  while (go_on) {
    if (!wait_subs(&b, 0, b.n_ep, 1000000000LL)) {
      if (mono_ns() - last_msg > (int64_t)idle_exit_s * 1000000000LL) {
        fprintf(stderr, "pong: idle for %d s, exiting\n", idle_exit_s);
        break;
      }
      continue;
    }
    last_msg = mono_ns();
    for (int i = 0; i < b.n_ep && go_on; i++) {
      if (b.ws.subscriptions[i]) go_on = pong_drain(&b.ep[i]);
    }
  }
  bench_fini(&b);
  return 0;
}

// ------------------------------------------------------------------------------------------
// ping
// ------------------------------------------------------------------------------------------

typedef struct {
  bench_t b;
  uint64_t seq;
  int64_t reply_stamp;  // stamp_ns of the last matching reply
} ping_t;

// Takes replies on endpoint i, discarding others, until one with cmd and seq. Returns true when
// it came.
static bool take_reply(ping_t *p, int i, uint64_t cmd, uint64_t seq) {
  const fixed_header_t *in;
  while ((in = take_loan(&p->b.ep[i])) != NULL) {
    bool match = in->command == cmd && in->seq == seq;
    if (match) p->reply_stamp = in->stamp_ns;
    return_loan(&p->b.ep[i], in);
    if (match) return true;
  }
  return false;
}

// Waits for the reply with cmd and seq on endpoint i. Returns true when it came in time.
static bool wait_reply(ping_t *p, int i, uint64_t cmd, uint64_t seq, int64_t timeout_ns) {
  int64_t deadline = mono_ns() + timeout_ns;
  for (;;) {
    int64_t left = deadline - mono_ns();
    if (left <= 0) return false;
    if (wait_subs(&p->b, i, 1, left) && take_reply(p, i, cmd, seq)) return true;
  }
}

// One SYNC round trip on endpoint i (retried); returns pong's CPU time.
static int64_t sync_pong(ping_t *p, int i) {
  for (int attempt = 0; attempt < 30; attempt++) {
    publish_loan(&p->b.ep[i], CMD_SYNC, ++p->seq, 0);
    if (wait_reply(p, i, CMD_SYNC, p->seq, 1000000000LL)) return p->reply_stamp;
    fprintf(stderr, "ping: no SYNC reply yet at %zu B (attempt %d)\n", p->b.ep[i].size,
            attempt + 1);
  }
  fprintf(stderr, "ping: pong does not answer\n");
  exit(3);
}

// Waits until both directions of endpoint i are matched (up to 20 s).
static bool wait_matched(ping_t *p, int i) {
  int64_t deadline = mono_ns() + 20000000000LL;
  for (;;) {
    size_t subs = 0, pubs = 0;
    CHECK(rcl_publisher_get_subscription_count(&p->b.ep[i].pub, &subs));
    CHECK(rcl_subscription_get_publisher_count(&p->b.ep[i].sub, &pubs));
    if (subs > 0 && pubs > 0) return true;
    if (mono_ns() > deadline) {
      fprintf(stderr, "ping: no pong matched at %zu B after 20 s (subs %zu, pubs %zu)\n",
              p->b.ep[i].size, subs, pubs);
      return false;
    }
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

// Nearest-rank percentile of a sorted array.
static int64_t pct(const int64_t *v, size_t n, double q) {
  size_t k = (size_t)ceil(q * (double)n);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return v[k - 1];
}

// --dump PREFIX: raw round-trip times (ns, in order, lost ones as -1) of each size go to
// PREFIX<size>.txt.
static const char *dump_prefix = NULL;

static void dump_rtts(size_t size, const int64_t *rtt, int n) {
  if (!dump_prefix) return;
  char path[512];
  snprintf(path, sizeof path, "%s%zu.txt", dump_prefix, size);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "ping: cannot write %s\n", path);
    return;
  }
  for (int i = 0; i < n; i++) fprintf(f, "%" PRId64 "\n", rtt[i]);
  fclose(f);
}

// One timed round trip on endpoint i: the round-trip time (-1: lost) and the borrow time.
static int64_t round_trip(ping_t *p, int i, int64_t *borrow_ns) {
  endpoint_t *e = &p->b.ep[i];
  uint64_t seq = ++p->seq;
  int64_t t0 = mono_ns();
  void *msg = NULL;
  CHECK(rcl_borrow_loaned_message(&e->pub, e->ts, &msg));
  *borrow_ns = mono_ns() - t0;
  fixed_header_t *h = msg;
  h->command = CMD_ECHO;
  h->seq = seq;
  h->stamp_ns = t0;
  CHECK(rcl_publish_loaned_message(&e->pub, msg, NULL));
  if (!wait_reply(p, i, CMD_ECHO, seq, 2000000000LL)) return -1;
  return mono_ns() - t0;
}

// Sorts the round trips, drops the lost ones (-1, first after sorting); returns how many remain.
static int sort_valid(int64_t *rtt, int n, int lost) {
  qsort(rtt, (size_t)n, sizeof *rtt, cmp_i64);
  memmove(rtt, rtt + lost, (size_t)(n - lost) * sizeof *rtt);
  return n - lost;
}

typedef struct {
  int64_t ping_cpu, pong_cpu, wall;  // deltas over the timed loop, ns
} costs_t;

static void print_loan(const ping_t *p, size_t size, int64_t *rtt, int n, int lost,
                       int64_t *borrow, int rounds, costs_t c) {
  if (n == 0) {
    printf("LOAN rmw=%s size=%zu n=0 lost=%d\n", p->b.rmw, size, lost);
    return;
  }
  double sum = 0;
  for (int i = 0; i < n; i++) sum += (double)rtt[i];
  qsort(borrow, (size_t)rounds, sizeof *borrow, cmp_i64);
  double ping_cpu = (double)c.ping_cpu / 1e3 / rounds, pong_cpu = (double)c.pong_cpu / 1e3 / rounds;
  // One-way = round trip / 2, in microseconds.
  printf("LOAN rmw=%s size=%zu n=%d lost=%d min=%.2f median=%.2f p90=%.2f p99=%.2f max=%.2f "
         "mean=%.2f borrow_median=%.2f ping_cpu_rt=%.2f pong_cpu_rt=%.2f cpu_msg=%.2f "
         "wall_s=%.2f\n",
         p->b.rmw, size, n, lost, rtt[0] / 2e3, pct(rtt, (size_t)n, 0.5) / 2e3,
         pct(rtt, (size_t)n, 0.9) / 2e3, pct(rtt, (size_t)n, 0.99) / 2e3, rtt[n - 1] / 2e3,
         sum / n / 2e3, pct(borrow, (size_t)rounds, 0.5) / 1e3, ping_cpu, pong_cpu,
         (ping_cpu + pong_cpu) / 2, c.wall / 1e9);
}

static void warm_up(ping_t *p, int i, int rounds) {
  int64_t borrow;
  for (int k = 0; k < rounds; k++) {
    if (round_trip(p, i, &borrow) < 0) {
      fprintf(stderr, "ping: warm-up round trip %d at %zu B timed out\n", k, p->b.ep[i].size);
    }
  }
}

static void latency(ping_t *p, int i, int rounds, double warmup_frac) {
  size_t size = p->b.ep[i].size;
  int warmup = (int)(rounds * warmup_frac);
  warm_up(p, i, warmup < 20 ? 20 : warmup);
  int64_t *rtt = calloc((size_t)rounds, sizeof *rtt);
  int64_t *borrow = calloc((size_t)rounds, sizeof *borrow);
  int lost = 0;
  int64_t pong0 = sync_pong(p, i), cpu0 = cpu_ns(), wall0 = mono_ns();
  for (int k = 0; k < rounds; k++) {
    rtt[k] = round_trip(p, i, &borrow[k]);
    if (rtt[k] < 0) lost++;
  }
  costs_t c = {.wall = mono_ns() - wall0, .ping_cpu = cpu_ns() - cpu0};
  c.pong_cpu = sync_pong(p, i) - pong0;
  dump_rtts(size, rtt, rounds);
  int n = sort_valid(rtt, rounds, lost);
  print_loan(p, size, rtt, n, lost, borrow, rounds, c);
  fflush(stdout);
  fprintf(stderr, "ping: loaned latency %zu B done (%d round trips, %d lost)\n", size, n, lost);
  free(rtt);
  free(borrow);
}

static int parse_list(const char *s, double *out, int max) {
  int n = 0;
  char *copy = strdup(s), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
    out[n++] = strtod(tok, NULL);
  }
  free(copy);
  return n;
}

static void send_quit(ping_t *p) {
  for (int k = 0; k < 3; k++) publish_loan(&p->b.ep[0], CMD_QUIT, ++p->seq, 0);
}

static int run_ping(const char *prefix, int depth, const char *sizes_s, const char *rounds_s,
                    double warmup_frac, bool quit) {
  double sizes[MAX_SIZES], rounds[MAX_SIZES];
  int ns = parse_list(sizes_s, sizes, MAX_SIZES);
  int nr = parse_list(rounds_s, rounds, MAX_SIZES);
  if (ns == 0 || nr == 0) return 1;
  ping_t p = {0};
  node_init(&p.b, "bench_ping_loan");
  for (int i = 0; i < ns; i++) add_endpoint(&p.b, prefix, "ping", "pong", (size_t)sizes[i], depth);
  wait_set_init(&p.b);
  fprintf(stderr, "ping: rmw %s, %s/ping<N> -> %s/pong<N>, depth %d, loaned\n", p.b.rmw, prefix,
          prefix, depth);
  for (int i = 0; i < ns; i++) {
    if (!wait_matched(&p, i)) return 3;
  }
  for (int i = 0; i < ns; i++) {
    (void)sync_pong(&p, i);
    latency(&p, i, (int)(i < nr ? rounds[i] : rounds[nr - 1]), warmup_frac);
  }
  if (quit) send_quit(&p);
  bench_fini(&p.b);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: pingpong_loan pong [--prefix P] [--depth D] [--idle-exit S]\n"
          "       pingpong_loan ping [--prefix P] [--depth D] [--sizes B,B,..] [--rounds N,N,..]\n"
          "                          [--warmup-frac F] [--quit] [--dump PREFIX]\n"
          "sizes: 64, 4096, 65536, 1048576, 4194304\n");
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *mode = argv[1];
  const char *prefix = "/bench";
  int depth = 4, idle_exit = 120;
  const char *sizes = "64,4096,65536,1048576,4194304";
  const char *rounds = "5000,5000,2000,500,200";
  double warmup_frac = 0.1;
  bool quit = false;
  for (int i = 2; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(o, "--quit")) { quit = true; continue; }
    if (!v) usage();
    if (!strcmp(o, "--prefix")) prefix = v;
    else if (!strcmp(o, "--depth")) depth = atoi(v);
    else if (!strcmp(o, "--idle-exit")) idle_exit = atoi(v);
    else if (!strcmp(o, "--sizes")) sizes = v;
    else if (!strcmp(o, "--rounds")) rounds = v;
    else if (!strcmp(o, "--warmup-frac")) warmup_frac = atof(v);
    else if (!strcmp(o, "--dump")) dump_prefix = v;
    else usage();
    i++;
  }
  if (depth < 1 || depth > 1000) usage();
  fixed_types_init();
  if (!strcmp(mode, "pong")) return run_pong(prefix, depth, idle_exit);
  if (!strcmp(mode, "ping")) return run_ping(prefix, depth, sizes, rounds, warmup_frac, quit);
  usage();
  return 1;
}
