package io.emend.bench.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs llama.cpp's {@code llama-bench} on a GGUF file and reads its per-repetition tokens/s. */
final class LlamaBench {

    private static final Pattern SAMPLES = Pattern.compile("\"samples_ts\"\\s*:\\s*\\[([^\\]]*)\\]");

    private final Path binary;
    /** CPU share of the last run: child CPU time / (wall × threads), from this process's reaped-children times. */
    private double lastCpuShare = Double.NaN;

    LlamaBench(Path binary) {
        this.binary = binary;
    }

    /** Decode: {@code -p 0 -n tokens}; the tokens/s of each of {@code reps} repetitions. */
    List<Double> decode(Path model, int threads, int tokens, int reps) throws IOException, InterruptedException {
        return run(model, threads, 0, tokens, reps);
    }

    /** Prefill: {@code -p tokens -n 0}. */
    List<Double> prefill(Path model, int threads, int tokens, int reps) throws IOException, InterruptedException {
        return run(model, threads, tokens, 0, reps);
    }

    private List<Double> run(Path model, int threads, int prompt, int gen, int reps)
            throws IOException, InterruptedException {
        List<String> cmd = List.of(binary.toString(), "-m", model.toString(), "-p", Integer.toString(prompt), "-n",
                Integer.toString(gen), "-t", Integer.toString(threads), "-r", Integer.toString(reps), "-o", "json");
        long cpu0 = childrenCpuTicks();
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        double wall = (System.nanoTime() - t0) / 1e9;
        // The JVM reaps its children, so their user+system time lands in /proc/self/stat's cutime and cstime.
        lastCpuShare = (childrenCpuTicks() - cpu0) / (double) CLOCK_TICKS / (wall * threads);
        Matcher m = SAMPLES.matcher(out);
        if (rc != 0 || !m.find()) {
            throw new IOException(String.join(" ", cmd) + " exited " + rc + " without samples_ts:\n" + out);
        }
        List<Double> samples = new ArrayList<>();
        for (String s : m.group(1).split(",")) {
            if (!s.isBlank()) {
                samples.add(Double.parseDouble(s.trim()));
            }
        }
        return samples;
    }

    /** Share of its threads' time the last llama-bench got (its model load and warm-up included); NaN if unknown. */
    double lastCpuShare() {
        return lastCpuShare;
    }

    /** {@code USER_HZ}: Linux reports times in /proc in these ticks (100 on every common build). */
    private static final int CLOCK_TICKS = 100;

    private static long childrenCpuTicks() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // Fields after the parenthesized command name: state is field 3; cutime and cstime are fields 16 and 17.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } catch (IOException | RuntimeException e) {
            return Long.MIN_VALUE / 4;
        }
    }
}
