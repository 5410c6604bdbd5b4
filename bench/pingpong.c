// rcl-level ping-pong and throughput benchmark for any RMW (rmw_fastrtps_cpp, rmw_shm_rs, ...).
//
// Two processes: "pong" echoes, "ping" measures.
//
//   pingpong pong [--prefix /bench] [--depth 10] [--idle-exit 120]
//   pingpong ping [--prefix /bench] [--depth 10] [--sizes 64,4096,...] [--rounds 5000,...]
//                 [--warmup-frac 0.1] [--tput-sizes 64,4194304] [--tput-seconds 3] [--quit]
//                 [--dump PREFIX]
//
// Messages are sensor_msgs/msg/Image; the payload size is the length of the `data` field. The
// numeric fields carry the protocol (a benchmark, so the image fields are free to reuse):
//   width  = command (ECHO, TPUT, SYNC, ACK, QUIT)
//   height = ping's sequence number
//   step   = in an ACK: how many TPUT messages pong has taken since the last SYNC
//   header.stamp = in replies: pong's process CPU time (CLOCK_PROCESS_CPUTIME_ID) when it replied
// ping publishes on <prefix>/ping, pong replies on <prefix>/pong. QoS: reliable, keep last
// <depth>, volatile, on both topics.
//
// Latency mode, per size: warm-up round trips, then N timed round trips; one round trip =
// rcl_publish of ping's message .. rcl_wait + rcl_take of pong's echo (pong takes the message
// and publishes the very same C message back). One-way latency = round trip / 2. CPU time per
// round trip of each process = its CLOCK_PROCESS_CPUTIME_ID delta (all threads, so the RMW's
// background threads count) over the N timed round trips / N; pong's comes back in the stamps
// of two SYNC replies around the timed loop.
//
// Throughput mode, per size: ping publishes TPUT messages as fast as pong keeps up, with a
// credit window: at most <depth> messages taken-but-not-acknowledged, so a reliable keep-last
// queue of <depth> never overflows and nothing is dropped; pong acknowledges every <depth>/2
// messages with a small ACK carrying its count. ping publishes in chunks of <depth>/2 while the
// window allows, for --tput-seconds, then waits until every message is acknowledged.
// Throughput = messages acknowledged / (time from the first publish to the last ACK).
// MB/s = messages/s x payload bytes / 1e6. CPU per message = each process's CPU delta over the
// run / messages (the publisher's includes taking ACKs, the subscriber's publishing them).
//
// Output: one line per result on stdout, `LAT key=value ...` and `TPUT key=value ...`, times in
// microseconds; diagnostics on stderr.

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
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
#include <rosidl_runtime_c/primitives_sequence_functions.h>
#include <rosidl_runtime_c/string_functions.h>
#include <sensor_msgs/msg/image.h>

enum { CMD_ECHO = 1, CMD_TPUT = 2, CMD_SYNC = 3, CMD_ACK = 4, CMD_QUIT = 5 };

#define MAX_SIZES 16

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
  fprintf(stderr, "pingpong: %s failed (%d): %s\n", what, (int)ret, rcl_get_error_string().str);
  exit(2);
}

#define CHECK(call)                   \
  do {                                \
    rcl_ret_t ret_ = (call);          \
    if (ret_ != RCL_RET_OK) {         \
      die_rcl(#call, ret_);           \
    }                                 \
  } while (0)

typedef struct {
  rcl_context_t context;
  rcl_node_t node;
  rcl_publisher_t pub;
  rcl_subscription_t sub;
  rcl_wait_set_t ws;
  int depth;
} bench_t;

static void bench_init(bench_t *b, const char *node_name, const char *pub_topic,
                       const char *sub_topic, int depth) {
  rcl_allocator_t alloc = rcl_get_default_allocator();
  rcl_init_options_t opts = rcl_get_zero_initialized_init_options();
  CHECK(rcl_init_options_init(&opts, alloc));
  b->context = rcl_get_zero_initialized_context();
  CHECK(rcl_init(0, NULL, &opts, &b->context));
  CHECK(rcl_init_options_fini(&opts));

  b->node = rcl_get_zero_initialized_node();
  rcl_node_options_t nopts = rcl_node_get_default_options();
  CHECK(rcl_node_init(&b->node, node_name, "", &b->context, &nopts));

  rmw_qos_profile_t qos = rmw_qos_profile_default;  // reliable, keep last, volatile
  qos.history = RMW_QOS_POLICY_HISTORY_KEEP_LAST;
  qos.depth = (size_t)depth;
  qos.reliability = RMW_QOS_POLICY_RELIABILITY_RELIABLE;
  qos.durability = RMW_QOS_POLICY_DURABILITY_VOLATILE;
  b->depth = depth;

  const rosidl_message_type_support_t *ts = ROSIDL_GET_MSG_TYPE_SUPPORT(sensor_msgs, msg, Image);
  b->pub = rcl_get_zero_initialized_publisher();
  rcl_publisher_options_t popts = rcl_publisher_get_default_options();
  popts.qos = qos;
  CHECK(rcl_publisher_init(&b->pub, &b->node, ts, pub_topic, &popts));

  b->sub = rcl_get_zero_initialized_subscription();
  rcl_subscription_options_t sopts = rcl_subscription_get_default_options();
  sopts.qos = qos;
  CHECK(rcl_subscription_init(&b->sub, &b->node, ts, sub_topic, &sopts));

  b->ws = rcl_get_zero_initialized_wait_set();
  CHECK(rcl_wait_set_init(&b->ws, 1, 0, 0, 0, 0, 0, &b->context, alloc));
}

// Teardown errors do not matter to the measurements: reported, not fatal.
#define SOFT(call)                                                          \
  do {                                                                      \
    if ((call) != RCL_RET_OK) {                                             \
      fprintf(stderr, "pingpong: %s: %s\n", #call, rcl_get_error_string().str); \
      rcl_reset_error();                                                    \
    }                                                                       \
  } while (0)

static void bench_fini(bench_t *b) {
  SOFT(rcl_wait_set_fini(&b->ws));
  SOFT(rcl_subscription_fini(&b->sub, &b->node));
  SOFT(rcl_publisher_fini(&b->pub, &b->node));
  SOFT(rcl_node_fini(&b->node));
  SOFT(rcl_shutdown(&b->context));
  SOFT(rcl_context_fini(&b->context));
}

// Waits up to timeout_ns for the subscription to have data. Returns true when it has.
static bool wait_sub(bench_t *b, int64_t timeout_ns) {
  CHECK(rcl_wait_set_clear(&b->ws));
  CHECK(rcl_wait_set_add_subscription(&b->ws, &b->sub, NULL));
  rcl_ret_t ret = rcl_wait(&b->ws, timeout_ns < 0 ? 0 : timeout_ns);
  if (ret == RCL_RET_TIMEOUT) {
    rcl_reset_error();
    return false;
  }
  if (ret != RCL_RET_OK) {
    die_rcl("rcl_wait", ret);
  }
  return b->ws.subscriptions[0] != NULL;
}

// Takes one message into msg. Returns true when one was taken.
static bool take(bench_t *b, sensor_msgs__msg__Image *msg) {
  rmw_message_info_t info = rmw_get_zero_initialized_message_info();
  rcl_ret_t ret = rcl_take(&b->sub, msg, &info, NULL);
  if (ret == RCL_RET_SUBSCRIPTION_TAKE_FAILED) {
    rcl_reset_error();
    return false;
  }
  if (ret != RCL_RET_OK) {
    die_rcl("rcl_take", ret);
  }
  return true;
}

static void publish(bench_t *b, const sensor_msgs__msg__Image *msg) {
  CHECK(rcl_publish(&b->pub, msg, NULL));
}

static void set_stamp_ns(sensor_msgs__msg__Image *m, int64_t ns) {
  m->header.stamp.sec = (int32_t)(ns / 1000000000LL);
  m->header.stamp.nanosec = (uint32_t)(ns % 1000000000LL);
}

static int64_t stamp_ns(const sensor_msgs__msg__Image *m) {
  return (int64_t)m->header.stamp.sec * 1000000000LL + m->header.stamp.nanosec;
}

static sensor_msgs__msg__Image *new_image(size_t size) {
  sensor_msgs__msg__Image *m = sensor_msgs__msg__Image__create();
  if (!m) {
    fprintf(stderr, "pingpong: cannot create an Image\n");
    exit(2);
  }
  rosidl_runtime_c__String__assign(&m->header.frame_id, "bench");
  rosidl_runtime_c__String__assign(&m->encoding, "mono8");
  if (size > 0) {
    rosidl_runtime_c__uint8__Sequence__fini(&m->data);
    if (!rosidl_runtime_c__uint8__Sequence__init(&m->data, size)) {
      fprintf(stderr, "pingpong: cannot allocate %zu bytes\n", size);
      exit(2);
    }
    for (size_t i = 0; i < size; i++) {
      m->data.data[i] = (uint8_t)(i * 131u + 7u);
    }
  }
  return m;
}

// ------------------------------------------------------------------------------------------
// pong
// ------------------------------------------------------------------------------------------

static int run_pong(const char *prefix, int depth, int idle_exit_s) {
  char a[256], bt[256];
  snprintf(a, sizeof a, "%s/ping", prefix);
  snprintf(bt, sizeof bt, "%s/pong", prefix);
  bench_t b;
  bench_init(&b, "bench_pong", bt, a, depth);
  fprintf(stderr, "pong: rmw %s, echoing %s -> %s, pid %d\n", rcl_node_get_rmw_handle(&b.node)->implementation_identifier,
          a, bt, (int)getpid());

  sensor_msgs__msg__Image *in = new_image(0);
  sensor_msgs__msg__Image *ctl = new_image(0);
  uint32_t count = 0;             // TPUT messages since the last SYNC
  uint32_t ack_every = (uint32_t)(depth / 2 > 0 ? depth / 2 : 1);
  int64_t last_msg = mono_ns();
  bool quit = false;
  while (!quit) {
    if (!wait_sub(&b, 1000000000LL)) {
      if (mono_ns() - last_msg > (int64_t)idle_exit_s * 1000000000LL) {
        fprintf(stderr, "pong: idle for %d s, exiting\n", idle_exit_s);
        break;
      }
      continue;
    }
    while (take(&b, in)) {
      last_msg = mono_ns();
      switch (in->width) {
        case CMD_ECHO:
          set_stamp_ns(in, cpu_ns());
          publish(&b, in);
          break;
        case CMD_TPUT:
          count++;
          if (count % ack_every == 0) {
            ctl->width = CMD_ACK;
            ctl->height = in->height;
            ctl->step = count;
            set_stamp_ns(ctl, cpu_ns());
            publish(&b, ctl);
          }
          break;
        case CMD_SYNC:
          count = 0;
          ctl->width = CMD_SYNC;
          ctl->height = in->height;
          ctl->step = 0;
          set_stamp_ns(ctl, cpu_ns());
          publish(&b, ctl);
          break;
        case CMD_QUIT:
          quit = true;
          break;
        default:
          fprintf(stderr, "pong: unknown command %u\n", in->width);
      }
    }
  }
  sensor_msgs__msg__Image__destroy(in);
  sensor_msgs__msg__Image__destroy(ctl);
  bench_fini(&b);
  return 0;
}

// ------------------------------------------------------------------------------------------
// ping
// ------------------------------------------------------------------------------------------

typedef struct {
  bench_t b;
  sensor_msgs__msg__Image *rx;   // what pong sends back (echoes are as big as the payload)
  sensor_msgs__msg__Image *ctl;  // small control messages
  uint32_t seq;
  const char *rmw;
} ping_t;

// Waits for a reply with command cmd and sequence seq, discarding anything else. Returns true
// when it came before the deadline.
static bool wait_reply(ping_t *p, uint32_t cmd, uint32_t seq, int64_t timeout_ns) {
  int64_t deadline = mono_ns() + timeout_ns;
  for (;;) {
    int64_t left = deadline - mono_ns();
    if (left <= 0) {
      return false;
    }
    if (!wait_sub(&p->b, left)) {
      continue;
    }
    while (take(&p->b, p->rx)) {
      if (p->rx->width == cmd && p->rx->height == seq) {
        return true;
      }
    }
  }
}

// One SYNC round trip (retried); returns pong's CPU time.
static int64_t sync_pong(ping_t *p) {
  for (int attempt = 0; attempt < 30; attempt++) {
    p->ctl->width = CMD_SYNC;
    p->ctl->height = ++p->seq;
    publish(&p->b, p->ctl);
    if (wait_reply(p, CMD_SYNC, p->seq, 1000000000LL)) {
      return stamp_ns(p->rx);
    }
    fprintf(stderr, "ping: no SYNC reply yet (attempt %d)\n", attempt + 1);
  }
  fprintf(stderr, "ping: pong does not answer\n");
  exit(3);
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
// PREFIX<size>.txt, for looking at outliers over time.
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

static void latency(ping_t *p, size_t size, int rounds, double warmup_frac) {
  sensor_msgs__msg__Image *tx = new_image(size);
  tx->width = CMD_ECHO;
  int warmup = (int)(rounds * warmup_frac);
  if (warmup < 20) warmup = 20;
  // Warm-up: also absorbs late matching (a lost round trip is retried after 1 s).
  for (int i = 0; i < warmup; i++) {
    tx->height = ++p->seq;
    publish(&p->b, tx);
    if (!wait_reply(p, CMD_ECHO, p->seq, 1000000000LL)) {
      fprintf(stderr, "ping: warm-up round trip %d at %zu B timed out\n", i, size);
    }
  }
  int64_t *rtt = calloc((size_t)rounds, sizeof *rtt);
  int lost = 0, n = 0;
  int64_t pong0 = sync_pong(p);
  int64_t cpu0 = cpu_ns();
  int64_t wall0 = mono_ns();
  for (int i = 0; i < rounds; i++) {
    tx->height = ++p->seq;
    int64_t t0 = mono_ns();
    publish(&p->b, tx);
    if (wait_reply(p, CMD_ECHO, p->seq, 2000000000LL)) {
      rtt[n++] = mono_ns() - t0;
    } else {
      lost++;
      rtt[n++] = -1;
    }
  }
  int64_t wall1 = mono_ns();
  int64_t cpu1 = cpu_ns();
  int64_t pong1 = sync_pong(p);
  dump_rtts(size, rtt, n);
  // Lost round trips (-1) sort first: drop them from the statistics.
  qsort(rtt, (size_t)n, sizeof *rtt, cmp_i64);
  memmove(rtt, rtt + lost, (size_t)(n - lost) * sizeof *rtt);
  n -= lost;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += (double)rtt[i];
  double ping_cpu = (double)(cpu1 - cpu0) / 1e3 / rounds;
  double pong_cpu = (double)(pong1 - pong0) / 1e3 / rounds;
  if (n == 0) {
    printf("LAT rmw=%s size=%zu n=0 lost=%d\n", p->rmw, size, lost);
  } else {
    // One-way = round trip / 2, in microseconds.
    printf("LAT rmw=%s size=%zu n=%d lost=%d min=%.2f median=%.2f p90=%.2f p99=%.2f max=%.2f "
           "mean=%.2f ping_cpu_rt=%.2f pong_cpu_rt=%.2f cpu_msg=%.2f wall_s=%.2f\n",
           p->rmw, size, n, lost, rtt[0] / 2e3, pct(rtt, (size_t)n, 0.5) / 2e3,
           pct(rtt, (size_t)n, 0.9) / 2e3, pct(rtt, (size_t)n, 0.99) / 2e3, rtt[n - 1] / 2e3,
           sum / n / 2e3, ping_cpu, pong_cpu, (ping_cpu + pong_cpu) / 2, (wall1 - wall0) / 1e9);
  }
  fflush(stdout);
  fprintf(stderr, "ping: latency %zu B done (%d round trips, %d lost)\n", size, n, lost);
  free(rtt);
  sensor_msgs__msg__Image__destroy(tx);
}

static void throughput(ping_t *p, size_t size, double seconds) {
  sensor_msgs__msg__Image *tx = new_image(size);
  tx->width = CMD_TPUT;
  const uint32_t window = (uint32_t)p->b.depth;
  const uint32_t chunk = window / 2 > 0 ? window / 2 : 1;  // pong acks every `chunk`
  for (int pass = 0; pass < 2; pass++) {  // pass 0: short warm-up, pass 1: measured
    double secs = pass == 0 ? (seconds / 5 < 0.3 ? 0.3 : seconds / 5) : seconds;
    int64_t pong0 = sync_pong(p);
    int64_t cpu0 = cpu_ns();
    int64_t t0 = mono_ns();
    int64_t end = t0 + (int64_t)(secs * 1e9);
    uint32_t sent = 0, acked = 0;
    int64_t pong1 = pong0, t_last = t0;
    bool stalled = false;
    for (;;) {
      bool sending = mono_ns() < end;
      if (sending) {
        while (sent - acked + chunk <= window) {
          for (uint32_t i = 0; i < chunk; i++) {
            tx->height = ++p->seq;
            publish(&p->b, tx);
          }
          sent += chunk;
        }
      } else if (acked >= sent) {
        break;
      }
      if (!wait_sub(&p->b, 2000000000LL)) {
        fprintf(stderr, "ping: throughput at %zu B stalled (sent %u, acked %u)\n", size, sent,
                acked);
        stalled = true;
        break;
      }
      while (take(&p->b, p->rx)) {
        if (p->rx->width == CMD_ACK && p->rx->step > acked) {
          acked = p->rx->step;
          pong1 = stamp_ns(p->rx);
          t_last = mono_ns();
        }
      }
    }
    int64_t cpu1 = cpu_ns();
    if (pass == 0) continue;
    double wall = (double)(t_last - t0) / 1e9;
    double rate = acked / wall;
    double pub_cpu = (double)(cpu1 - cpu0) / 1e3 / (acked ? acked : 1);
    double sub_cpu = (double)(pong1 - pong0) / 1e3 / (acked ? acked : 1);
    printf("TPUT rmw=%s size=%zu secs=%.3f msgs=%u stalled=%d msgs_s=%.1f MBps=%.2f "
           "pub_cpu_msg=%.2f sub_cpu_msg=%.2f cpu_msg=%.2f window=%u\n",
           p->rmw, size, wall, acked, stalled ? 1 : 0, rate, rate * (double)size / 1e6, pub_cpu,
           sub_cpu, pub_cpu + sub_cpu, window);
    fflush(stdout);
    fprintf(stderr, "ping: throughput %zu B done (%u messages)\n", size, acked);
    // Drain anything left over so the next phase starts clean.
    while (take(&p->b, p->rx)) {
    }
  }
  sensor_msgs__msg__Image__destroy(tx);
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

static int run_ping(const char *prefix, int depth, const char *sizes_s, const char *rounds_s,
                    double warmup_frac, const char *tput_s, double tput_secs, bool send_quit) {
  char a[256], bt[256];
  snprintf(a, sizeof a, "%s/ping", prefix);
  snprintf(bt, sizeof bt, "%s/pong", prefix);
  ping_t p = {0};
  bench_init(&p.b, "bench_ping", a, bt, depth);
  p.rmw = rcl_node_get_rmw_handle(&p.b.node)->implementation_identifier;
  p.rx = new_image(0);
  p.ctl = new_image(0);
  fprintf(stderr, "ping: rmw %s, %s -> %s, depth %d, can_loan %d\n", p.rmw, a, bt, depth,
          (int)rcl_publisher_can_loan_messages(&p.b.pub));

  // Wait until both directions are matched (up to 20 s).
  int64_t match0 = mono_ns();
  int64_t deadline = match0 + 20000000000LL;
  for (;;) {
    size_t subs = 0, pubs = 0;
    CHECK(rcl_publisher_get_subscription_count(&p.b.pub, &subs));
    CHECK(rcl_subscription_get_publisher_count(&p.b.sub, &pubs));
    if (subs > 0 && pubs > 0) {
      fprintf(stderr, "ping: matched after %.0f ms (subs %zu, pubs %zu)\n",
              (mono_ns() - match0) / 1e6, subs, pubs);
      break;
    }
    if (mono_ns() > deadline) {
      fprintf(stderr, "ping: no pong matched after 20 s (subs %zu, pubs %zu)\n", subs, pubs);
      return 3;
    }
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  (void)sync_pong(&p);

  double sizes[MAX_SIZES], rounds[MAX_SIZES], tput[MAX_SIZES];
  int ns = sizes_s[0] ? parse_list(sizes_s, sizes, MAX_SIZES) : 0;
  int nr = parse_list(rounds_s, rounds, MAX_SIZES);
  int nt = tput_s[0] ? parse_list(tput_s, tput, MAX_SIZES) : 0;
  for (int i = 0; i < ns; i++) {
    int r = (int)(i < nr ? rounds[i] : rounds[nr - 1]);
    latency(&p, (size_t)sizes[i], r, warmup_frac);
  }
  for (int i = 0; i < nt; i++) {
    throughput(&p, (size_t)tput[i], tput_secs);
  }

  if (send_quit) {
    p.ctl->width = CMD_QUIT;
    for (int i = 0; i < 3; i++) publish(&p.b, p.ctl);
  }
  sensor_msgs__msg__Image__destroy(p.rx);
  sensor_msgs__msg__Image__destroy(p.ctl);
  bench_fini(&p.b);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: pingpong pong [--prefix P] [--depth D] [--idle-exit S]\n"
          "       pingpong ping [--prefix P] [--depth D] [--sizes B,B,..] [--rounds N,N,..]\n"
          "                     [--warmup-frac F] [--tput-sizes B,..] [--tput-seconds S] [--quit]\n"
          "                     [--dump PREFIX]\n");
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  const char *mode = argv[1];
  const char *prefix = "/bench";
  int depth = 10, idle_exit = 120;
  const char *sizes = "64,4096,65536,1048576,4194304";
  const char *rounds = "5000,5000,2000,500,200";
  const char *tput = "64,4194304";
  double warmup_frac = 0.1, tput_secs = 3.0;
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
    else if (!strcmp(o, "--tput-sizes")) tput = v;
    else if (!strcmp(o, "--tput-seconds")) tput_secs = atof(v);
    else if (!strcmp(o, "--dump")) dump_prefix = v;
    else usage();
    i++;
  }
  if (depth < 1 || depth > 1000) usage();
  if (!strcmp(mode, "pong")) return run_pong(prefix, depth, idle_exit);
  if (!strcmp(mode, "ping")) {
    return run_ping(prefix, depth, sizes, rounds, warmup_frac, tput, tput_secs, quit);
  }
  usage();
  return 1;
}
