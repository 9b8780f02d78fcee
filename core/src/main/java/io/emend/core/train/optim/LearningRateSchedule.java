package io.emend.core.train.optim;

/**
 * Linear warmup then cosine decay to zero. At step s (0-based) of {@code total}: during the first {@code warmup}
 * steps {@code peak·(s+1)/warmup} (so the first step already moves the weights); afterwards
 * {@code peak·½(1 + cos(π·(s - warmup)/(total - warmup)))}.
 *
 * @param peak   the learning rate after warmup
 * @param warmup warmup steps, ≥ 0
 * @param total  all optimizer steps, > warmup
 */
public record LearningRateSchedule(double peak, int warmup, int total) {

    public LearningRateSchedule {
        if (!(peak > 0) || !Double.isFinite(peak)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        }
        if (warmup < 0 || total <= 0 || warmup >= total) {
            throw new IllegalArgumentException("warmup steps (" + warmup + ") must be in [0, total steps = " + total
                    + ")");
        }
    }

    public double at(int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        double progress = (double) (step - warmup) / (total - warmup);
        return peak * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
