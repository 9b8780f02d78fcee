package io.emend.cli.terminal;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A progress bar for work made of known steps, drawn on stderr. On a terminal it redraws one line in place, with the
 * current step and the seconds spent on it; elsewhere (pipes, CI, tests) it prints one line per step, so logs stay
 * readable.
 */
public final class Progress implements AutoCloseable {

    private static final int BAR_WIDTH = 24;
    private static final Duration REDRAW = Duration.ofMillis(250);

    private final PrintWriter err;
    private final boolean interactive;
    private final int total;
    private final ScheduledExecutorService ticker;
    private int done;
    private String label = "";
    private long stepStartedNanos = System.nanoTime();
    private int lastWidth;

    public Progress(PrintWriter err, boolean interactive, int total) {
        this.err = err;
        this.interactive = interactive;
        this.total = Math.max(1, total);
        if (interactive) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "emend-progress");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::draw, REDRAW.toMillis(), REDRAW.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            ticker = null;
        }
    }

    /**
     * Whether stderr is a terminal a bar can be redrawn on. The {@code ./emend} script knows ({@code [ -t 2 ]}) and says
     * so in {@code emend.stderr.tty}; otherwise the console's answer (stdin and stdout) stands in for it.
     */
    public static boolean terminalAttached() {
        String told = System.getProperty("emend.stderr.tty");
        if (told != null) {
            return Boolean.parseBoolean(told);
        }
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** Starts the next step; the previous one counts as done. */
    public synchronized void step(String what) {
        if (!label.isEmpty()) {
            done = Math.min(total, done + 1);
        }
        label = what;
        stepStartedNanos = System.nanoTime();
        if (interactive) {
            draw();
        } else {
            err.printf("[%d/%d] %s%n", done + 1, total, what);
            err.flush();
        }
    }

    /**
     * Says how far the current step is (e.g. "key statistics 40000/100000 tokens") without advancing it. Only a
     * terminal shows it, on the bar's line; logs keep one line per step.
     */
    public synchronized void detail(String what) {
        if (interactive) {
            int space = label.indexOf(" \u00b7 ");
            label = (space < 0 ? label : label.substring(0, space)) + " \u00b7 " + what;
            draw();
        }
    }

    private synchronized void draw() {
        int filled = done * BAR_WIDTH / total;
        long seconds = (System.nanoTime() - stepStartedNanos) / 1_000_000_000L;
        String line = "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + (done + 1) + "/" + total + " "
                + label + (seconds >= 1 ? " (" + seconds + " s)" : "");
        err.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
        lastWidth = line.length();
        err.flush();
    }

    /** Stops redrawing and clears the bar's line, so what follows starts on a clean line. */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.shutdownNow();
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
        }
    }
}
