package io.emend.bench.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of other processes on this Linux machine, from {@code /proc/<pid>/stat}. On a shared, loaded machine,
 * CPU seconds per request are steadier than wall-clock figures: they show what a request costs, not how long it
 * queued behind somebody else's build.
 */
final class CpuClock {

    /** Kernel clock ticks per second ({@code getconf CLK_TCK}); 100 on every mainstream Linux build. */
    private static final long TICKS_PER_SECOND = ticksPerSecond();

    private CpuClock() {
    }

    /** User plus system CPU time of a process in nanoseconds, or 0 when it has exited. */
    static long cpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks * 1_000_000_000L / TICKS_PER_SECOND;
        } catch (NoSuchFileException gone) {
            return 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + "/stat", e);
        }
    }

    /** CPU time of each process now, to be compared later with {@link #usedSince}. */
    static Map<Long, Long> cpuNanosByPid(Collection<Long> pids) {
        Map<Long, Long> readings = new HashMap<>();
        for (long pid : pids) {
            readings.put(pid, cpuNanos(pid));
        }
        return readings;
    }

    /**
     * CPU time used since {@code before} by the processes alive now. A process that started meanwhile counts in
     * full; one that exited meanwhile (a database session closed just before the window, still listed at its start)
     * is left out rather than counted negative.
     */
    static long usedSince(Map<Long, Long> before, Collection<Long> pidsNow) {
        long used = 0;
        for (long pid : pidsNow) {
            long now = cpuNanos(pid);
            if (now > 0) {
                used += now - before.getOrDefault(pid, 0L);
            }
        }
        return used;
    }

    /** The 1-minute load average, the figure the shared machine's state is reported by. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/loadavg", e);
        }
    }

    private static long ticksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes()).trim();
            return getconf.waitFor() == 0 ? Long.parseLong(out) : 100;
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
