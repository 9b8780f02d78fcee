package io.emend.core.merge.plan;

import io.emend.core.format.safetensors.CheckpointWriter;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Writes finished output tensors on a thread of its own, so that tensor <i>i</i> goes to disk while tensor
 * <i>i</i>+1 is merged: the {@code write()} of a tensor (the kernel's copy into the page cache, and on a machine
 * with many dirty pages the wait for writeback) no longer stops the merge between tensors.
 *
 * <p>It owns two output buffers the size of the largest tensor and hands out the one not being written, so at
 * most one finished tensor waits for the disk and memory stays bounded by two tensors. Before a buffer is handed
 * out again its previous write has finished, and a failed write is thrown to the merging thread at its next
 * {@link #write} or at {@link #finish()}. {@link #close()} stops and waits for the thread before the caller closes
 * the {@link CheckpointWriter} (which then discards the shards: nothing half-written remains) and frees the buffers.
 */
final class OutputWriter implements AutoCloseable {

    private final CheckpointWriter checkpoint;
    private final Consumer<String> written;
    private final MemorySegment[] buffers;
    private final ExecutorService thread =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("merge-writer").factory());
    private Future<?> pending;
    private String pendingName;
    private long submitted;

    /**
     * @param arena   allocates the two buffers; must stay open until this writer is closed
     * @param largest bytes of the largest output tensor
     * @param written told the name of each tensor once its bytes are written, on the merging thread
     */
    OutputWriter(CheckpointWriter checkpoint, Arena arena, long largest, Consumer<String> written) {
        this.checkpoint = checkpoint;
        this.written = written;
        this.buffers = new MemorySegment[] {
                arena.allocate(Math.max(1, largest), Long.BYTES), arena.allocate(Math.max(1, largest), Long.BYTES)};
    }

    /** A buffer of {@code bytes} for the next tensor; it is not being written. */
    MemorySegment buffer(long bytes) {
        return buffers[(int) (submitted % 2)].asSlice(0, bytes);
    }

    /**
     * Waits for the previous tensor's write, then starts writing {@code bytes} (the slice {@link #buffer} gave)
     * and returns.
     */
    void write(String name, MemorySegment bytes) throws IOException {
        awaitPending();
        pendingName = name;
        pending = thread.submit(() -> {
            checkpoint.write(name, bytes);
            return null;
        });
        submitted++;
    }

    /** Waits for the last write; the checkpoint can then be committed. */
    void finish() throws IOException {
        awaitPending();
    }

    private void awaitPending() throws IOException {
        if (pending == null) {
            return;
        }
        try {
            pending.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException r -> throw r;
                case Error err -> throw err;
                default -> throw new IOException("writing tensor '" + pendingName + "'", e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing tensor '" + pendingName + "'");
        }
        pending = null;
        written.accept(pendingName);
    }

    /**
     * Stops the thread and waits until it has ended, so no write touches the checkpoint or the buffers after this
     * returns. A write still running when the merge failed is interrupted (which closes its file).
     */
    @Override
    public void close() {
        thread.shutdownNow();
        boolean interrupted = false;
        while (true) {
            try {
                if (thread.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
