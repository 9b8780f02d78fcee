package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ComputePoolTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossManyRanges() {
        try (ComputePool pool = new ComputePool(3)) {
            for (int n : new int[] {0, 1, 2, 3, 7, 1000}) {
                for (int round = 0; round < 200; round++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    pool.run(n, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            hits.incrementAndGet(i);
                        }
                    });
                    for (int i = 0; i < n; i++) {
                        assertEquals(1, hits.get(i), "n=" + n + " index " + i);
                    }
                }
            }
        }
    }

    @Test
    void aFailureInAnyShareReachesTheCaller() {
        try (ComputePool pool = new ComputePool(2)) {
            var e = assertThrows(IllegalStateException.class, () -> pool.run(10, (from, to) -> {
                if (from > 0) {
                    throw new IllegalStateException("worker share failed");
                }
            }));
            assertEquals("worker share failed", e.getMessage());
            int[] sum = new int[1];
            pool.run(4, (from, to) -> {
                synchronized (sum) {
                    sum[0] += to - from;
                }
            });
            assertEquals(4, sum[0], "the pool still works after a failure");
        }
    }

    @Test
    void rejectsBadUse() {
        assertEquals("threads must be at least 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new ComputePool(0)).getMessage());
        ComputePool pool = new ComputePool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(10, (from, to) -> { }));
    }
}
