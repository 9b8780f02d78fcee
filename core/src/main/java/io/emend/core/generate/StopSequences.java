package io.emend.core.generate;

import java.util.List;

/**
 * Cuts streamed text at the first stop sequence. Text that could be the start of a stop sequence is held back until
 * the next piece settles it, so nothing emitted ever has to be taken back; emitted text therefore never ends with a
 * proper prefix of a stop string, and a match can only begin inside the held-back part.
 */
public final class StopSequences {

    private final List<String> stops;
    private final StringBuilder emitted = new StringBuilder();
    private String pending = "";
    private boolean stopped;

    public StopSequences(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds a piece of text; returns what may be emitted now. */
    public String offer(String piece) {
        if (stopped) {
            return "";
        }
        pending += piece;
        int cut = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        String out;
        if (cut >= 0) {
            stopped = true;
            out = pending.substring(0, cut);
            pending = "";
        } else {
            int hold = heldBack(pending);
            out = pending.substring(0, pending.length() - hold);
            pending = pending.substring(pending.length() - hold);
        }
        emitted.append(out);
        return out;
    }

    /** The longest suffix of {@code text} that is a proper prefix of some stop sequence. */
    private int heldBack(String text) {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, s, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    public boolean stopped() {
        return stopped;
    }

    /** Ends the stream: the held-back text is final after all. */
    public String flush() {
        String out = stopped ? "" : pending;
        pending = "";
        emitted.append(out);
        return out;
    }

    public String text() {
        return emitted.toString();
    }
}
