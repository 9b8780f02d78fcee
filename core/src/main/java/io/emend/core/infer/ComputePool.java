package io.emend.core.infer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A small fixed set of threads that split one range of work (rows of a matrix, heads of attention) between them;
 * the calling thread takes the first share. A decode step hands out about a hundred such ranges of some tens of
 * microseconds each, so workers spin briefly for the next one before parking: parking and waking per range would
 * cost as much as the work.
 */
public final class ComputePool implements AutoCloseable {

    /** Work over {@code [from, to)} of a range. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /** Spins (each a PAUSE) before a worker parks: some tens of microseconds, the gap between two ranges of a step. */
    private static final int SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicIntegerArray parked; // 1 while worker i may be parked; volatile, pairs with generation
    private final AtomicInteger generation = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private volatile RangeTask task;
    private volatile int size;
    private volatile boolean closed;
    private volatile Throwable failure;

    /** @param threads threads doing the work, the caller included (1 = run everything on the caller) */
    public ComputePool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicIntegerArray(threads - 1);
        for (int i = 0; i < workers.length; i++) {
            int share = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("emend-compute-" + share).unstarted(() -> work(share));
            workers[i].start();
        }
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, n)} split into one contiguous share per thread; returns when all are done. */
    public void run(int n, RangeTask task) {
        if (threads == 1 || n < threads) {
            task.run(0, n);
            return;
        }
        if (closed) {
            throw new IllegalStateException("the compute pool is closed");
        }
        this.task = task;
        this.size = n;
        this.failure = null;
        pending.set(workers.length);
        generation.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            if (parked.get(i) == 1) {
                LockSupport.unpark(workers[i]);
            }
        }
        Throwable own = null;
        try {
            task.run(0, bound(0, n));
        } catch (Throwable t) {
            own = t;
        }
        while (pending.get() != 0) {
            Thread.onSpinWait();
        }
        this.task = null;
        Throwable worker = failure;
        if (own != null || worker != null) {
            Throwable t = own != null ? own : worker;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    private int bound(int share, int n) {
        return (int) ((long) n * (share + 1) / threads);
    }

    private void work(int share) {
        int seen = 0;
        while (true) {
            int spins = 0;
            int now;
            while ((now = generation.get()) == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    parked.set(share - 1, 1);
                    if (generation.get() == seen && !closed) {
                        LockSupport.park(this);
                    }
                    parked.set(share - 1, 0);
                }
            }
            if (closed) {
                return;
            }
            seen = now;
            int n = size;
            try {
                task.run((int) ((long) n * share / threads), bound(share, n));
            } catch (Throwable t) {
                failure = t;
            }
            pending.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
