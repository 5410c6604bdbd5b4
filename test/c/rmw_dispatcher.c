/* An emulation of librmw_implementation.so, the dispatcher of a standard ROS 2 install
 * (test/test_standard_layout.py, mode "dispatcher").
 *
 * The real one (rmw_implementation/src/functions.cpp) exports every rmw interface function; each
 * export looks its namesake up in the RMW library it loaded by name with
 * rcutils_load_shared_library(), i.e. dlopen(name, RTLD_LAZY) (RTLD_LOCAL), and calls it. Because
 * rcl links it, those exports sit in the process's global scope, where the functions rmw_fastrtps_cpp
 * calls back through the global scope (rmw_init_options_copy, ...) bind.
 *
 * Here each export is a tail-jump trampoline (x86_64 only), so no signature is needed: the list of
 * names comes from rmw_shm_rs/tests/rmw_exports.txt (generated header rmw_names.h, X-macro
 * RMW_NAMES). Before the jump each trampoline records (name, return address), so the report tells
 * which library called which export: calls from librmw_fastrtps_cpp.so are the delegate's
 * call-backs.
 *
 * Build: cc -shared -fPIC -O1 -include rmw_names.h rmw_dispatcher.c -o librmw_dispatcher_emul.so -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__)
#error "rmw_dispatcher.c: trampolines are written for x86_64 only"
#endif
#ifndef RMW_NAMES
#error "compile with -include rmw_names.h (defines RMW_NAMES(X))"
#endif

#define HIDDEN __attribute__((visibility("hidden")))

/* Per name: the target (the RMW library's definition) and the name string. */
#define DECLARE(n) \
  HIDDEN void * fwd_##n; \
  HIDDEN const char name_##n[] = #n; \
  static void missing_##n(void) \
  { \
    fprintf(stderr, "rmw_dispatcher: %s is not exported by the RMW library\n", #n); \
    abort(); \
  }
RMW_NAMES(DECLARE)

struct entry
{
  const char * name;
  void ** fwd;
  void (* missing)(void);
};
#define ENTRY(n) {#n, &fwd_##n, missing_##n},
static const struct entry table[] = {RMW_NAMES(ENTRY)};
#define N_ENTRIES (sizeof(table) / sizeof(table[0]))

/* Calls seen: (name, return address). */
#define MAX_CALLS 65536
static struct
{
  const char * name;
  void * ret;
} calls[MAX_CALLS];
static atomic_size_t n_calls;

HIDDEN void emul_dispatcher_note(const char * name, void * ret)
{
  size_t i = atomic_fetch_add(&n_calls, 1);
  if (i < MAX_CALLS) {
    calls[i].name = name;
    calls[i].ret = ret;
  }
}

/* The trampoline: save the integer argument registers and rax (7 pushes: the stack is 16-byte
 * aligned for the call), note the call, restore, jump. Stack arguments and the return address are
 * untouched, so the target sees exactly the caller's frame. No rmw function takes float
 * arguments (xmm registers may be clobbered by the note). */
#define TRAMPOLINE(n) \
  __asm__ ( \
    ".text\n" \
    ".globl " #n "\n" \
    ".type " #n ", @function\n" \
    #n ":\n" \
    "  push %rdi\n  push %rsi\n  push %rdx\n  push %rcx\n  push %r8\n  push %r9\n  push %rax\n" \
    "  lea name_" #n "(%rip), %rdi\n" \
    "  mov 56(%rsp), %rsi\n" \
    "  call emul_dispatcher_note\n" \
    "  pop %rax\n  pop %r9\n  pop %r8\n  pop %rcx\n  pop %rdx\n  pop %rsi\n  pop %rdi\n" \
    "  jmp *fwd_" #n "(%rip)\n" \
    ".size " #n ", .-" #n "\n");
RMW_NAMES(TRAMPOLINE)

static void * g_lib;

/* What rmw_implementation's load_library() + prefetch_symbols() do: load the RMW library by name
 * with the flags of rcutils_load_shared_library (the caller passes them), resolve every export. */
void * emul_dispatcher_load(const char * library_name, int flags)
{
  g_lib = dlopen(library_name, flags);
  if (!g_lib) {
    fprintf(stderr, "rmw_dispatcher: dlopen(%s): %s\n", library_name, dlerror());
    return NULL;
  }
  for (size_t i = 0; i < N_ENTRIES; i++) {
    void * f = dlsym(g_lib, table[i].name);
    *table[i].fwd = f ? f : (void *)table[i].missing;
  }
  return g_lib;
}

static const char * base_name(const char * path)
{
  const char * s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Number of recorded calls of `name` whose caller's object file name contains `caller`
 * (NULL: any caller). */
size_t emul_dispatcher_calls(const char * name, const char * caller)
{
  size_t n = atomic_load(&n_calls), hits = 0;
  if (n > MAX_CALLS) {
    n = MAX_CALLS;
  }
  for (size_t i = 0; i < n; i++) {
    if (strcmp(calls[i].name, name) != 0) {
      continue;
    }
    if (caller) {
      Dl_info info;
      if (!dladdr(calls[i].ret, &info) || !info.dli_fname ||
        !strstr(base_name(info.dli_fname), caller))
      {
        continue;
      }
    }
    hits++;
  }
  return hits;
}

/* Prints "dispatcher: <name> <- <caller object> xN" for every (name, caller) pair, where <caller
 * object> is "main" for the program itself. */
void emul_dispatcher_report(FILE * out)
{
  size_t n = atomic_load(&n_calls);
  if (n > MAX_CALLS) {
    fprintf(out, "dispatcher: %zu calls, only the first %d recorded\n", n, MAX_CALLS);
    n = MAX_CALLS;
  }
  static char seen[MAX_CALLS];
  memset(seen, 0, sizeof(seen));
  for (size_t i = 0; i < n; i++) {
    if (seen[i]) {
      continue;
    }
    Dl_info info;
    const char * who_i = dladdr(calls[i].ret, &info) && info.dli_fname ?
      base_name(info.dli_fname) : "?";
    if (!*who_i) {
      who_i = "main";
    }
    size_t count = 0;
    for (size_t j = i; j < n; j++) {
      if (seen[j] || strcmp(calls[j].name, calls[i].name) != 0) {
        continue;
      }
      Dl_info info_j;
      const char * who_j = dladdr(calls[j].ret, &info_j) && info_j.dli_fname ?
        base_name(info_j.dli_fname) : "?";
      if (!*who_j) {
        who_j = "main";
      }
      if (strcmp(who_i, who_j) == 0) {
        seen[j] = 1;
        count++;
      }
    }
    fprintf(out, "dispatcher: %s <- %s x%zu\n", calls[i].name, who_i, count);
  }
}
