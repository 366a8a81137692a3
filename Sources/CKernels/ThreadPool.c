#include "CKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

// The parallel loops of a forward pass are short (a norm over 256 rows takes tens of
// microseconds) and come hundreds of times per pass. Handing each to a thread that sleeps
// between them costs a wake-up every time; on a virtual machine a sleeping vCPU takes long
// enough to wake that one core sat idle a sixth of a 2-thread forward pass. Here the workers
// are kept for the process's life and spin for a while after each loop before they sleep, so
// the next loop of the same pass finds them awake (docs/methods.md §22.5).

enum { MAX_WORKERS = 255 };

// How long a worker waits for the next loop before it sleeps: longer than the serial gaps
// between the loops of a forward pass, short enough that an idle process stops at once. After
// the first part it yields the core at each check, so that other runnable threads (OpenBLAS's,
// between our loops) are not held off by a spinning one.
enum { SPIN_NANOSECONDS = 1000000, YIELD_AFTER_NANOSECONDS = 50000 };

static pthread_mutex_t submitLock = PTHREAD_MUTEX_INITIALIZER;   // one loop at a time
static pthread_mutex_t sleepLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Atomic size_t sleepers;

static size_t workerCount;                  // started so far (under submitLock)
static uint32_t loopCount;                  // loops run so far (under submitLock)

// The current loop's number (high 32 bits) and its next unclaimed iteration (low 32 bits), in
// one word: a thread claims an iteration by a compare-and-swap that fails once the word has
// moved on. Between two loops the word reads (next loop, PREPARING) while the next loop's fields
// are written, so that a worker still in the last loop cannot claim an index of the next.
static _Atomic uint64_t ticket;
#define PREPARING UINT32_MAX

// The current loop, written while its ticket reads PREPARING and stable until it completes.
static icl_task_fn jobTask;
static void *jobContext;
static _Atomic size_t jobIterations;
static _Atomic size_t jobWorkers;           // workers 0..<jobWorkers take part
static _Atomic size_t completed;            // iterations of the current loop done

static _Thread_local int insideLoop;

static inline void spinPause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static uint64_t nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void runIterations(uint32_t loop) {
    for (;;) {
        uint64_t current = atomic_load_explicit(&ticket, memory_order_acquire);
        size_t i = (size_t)(current & UINT32_MAX);
        if ((uint32_t)(current >> 32) != loop || i == PREPARING) return;
        // Acquire: had this read the next loop's count, the ticket would have read PREPARING
        // before it (release store below), and the compare-and-swap would fail.
        if (i >= atomic_load_explicit(&jobIterations, memory_order_acquire)) return;
        if (atomic_compare_exchange_weak_explicit(&ticket, &current, current + 1, memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            jobTask(jobContext, i);
            atomic_fetch_add_explicit(&completed, 1, memory_order_release);
        }
    }
}

// The number of the latest loop whose fields are written (the one before while the next one's
// are being written).
static uint32_t publishedLoop(void) {
    uint64_t current = atomic_load(&ticket);
    uint32_t loop = (uint32_t)(current >> 32);
    return (uint32_t)(current & UINT32_MAX) == PREPARING ? loop - 1 : loop;
}

static void *worker(void *argument) {
    // The argument holds the worker's id and the number of the last loop before it was started.
    size_t id = (size_t)((uintptr_t)argument >> 32);
    uint32_t seen = (uint32_t)(uintptr_t)argument;
    insideLoop = 1;
    for (;;) {
        uint32_t loop = publishedLoop();
        if (loop == seen) {
            uint64_t start = nanoseconds(), waited = 0;
            while (loop == seen && waited < SPIN_NANOSECONDS) {
                for (int n = 0; n < 64 && loop == seen; n++) {
                    spinPause();
                    loop = publishedLoop();
                }
                waited = nanoseconds() - start;
                if (loop == seen && waited > YIELD_AFTER_NANOSECONDS) sched_yield();
            }
        }
        if (loop == seen) {
            pthread_mutex_lock(&sleepLock);
            atomic_fetch_add(&sleepers, 1);
            while ((loop = publishedLoop()) == seen) pthread_cond_wait(&wake, &sleepLock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleepLock);
        }
        seen = loop;
        if (id < atomic_load_explicit(&jobWorkers, memory_order_relaxed)) runIterations(loop);
    }
    return NULL;
}

void icl_parallel_for(size_t iterations, size_t threads, icl_task_fn task, void *context) {
    // A loop inside a loop, or beside another caller's, runs on its caller's thread.
    if (threads < 2 || iterations < 2 || iterations >= PREPARING || insideLoop
        || pthread_mutex_trylock(&submitLock) != 0) {
        for (size_t i = 0; i < iterations; i++) task(context, i);
        return;
    }
    size_t wanted = threads - 1 < MAX_WORKERS ? threads - 1 : MAX_WORKERS;
    if (wanted > iterations - 1) wanted = iterations - 1;
    while (workerCount < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker, (void *)((uintptr_t)workerCount << 32 | loopCount));
        pthread_attr_destroy(&attributes);
        if (failed) break;   // fewer workers: the loop still completes, on the threads there are
        workerCount++;
    }

    uint32_t loop = ++loopCount;
    atomic_store(&ticket, (uint64_t)loop << 32 | PREPARING);
    jobTask = task;
    jobContext = context;
    atomic_store_explicit(&jobIterations, iterations, memory_order_release);
    atomic_store_explicit(&jobWorkers, wanted, memory_order_relaxed);
    atomic_store_explicit(&completed, 0, memory_order_relaxed);
    atomic_store(&ticket, (uint64_t)loop << 32);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleepLock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleepLock);
    }
    insideLoop = 1;
    runIterations(loop);
    insideLoop = 0;
    while (atomic_load_explicit(&completed, memory_order_acquire) < iterations) spinPause();
    pthread_mutex_unlock(&submitLock);
}
