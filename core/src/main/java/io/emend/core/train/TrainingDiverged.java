package io.emend.core.train;

/** A step produced a NaN or infinite loss or gradient; the run stops rather than train on garbage. */
public final class TrainingDiverged extends RuntimeException {

    private final int step;

    public TrainingDiverged(int step, String what) {
        super("training diverged at step " + step + ": " + what
                + " (lower the learning rate, or check the data and the model's weights)");
        this.step = step;
    }

    /** The 1-based step that failed. */
    public int step() {
        return step;
    }
}
