package io.emend.core.train;

/**
 * What one optimizer step did, for progress displays and job events.
 *
 * @param step         1-based step just finished
 * @param totalSteps   steps the run will take
 * @param loss         mean training loss (next-token NLL over the step's target tokens, without penalties)
 * @param learningRate the rate the step used
 * @param gradientNorm global gradient norm before clipping
 * @param tokens       tokens the model read this step
 * @param elapsedNanos time since the run (or its resume) started
 * @param stepsThisRun steps done since the run (or its resume) started
 */
public record StepReport(int step, int totalSteps, double loss, double learningRate, double gradientNorm, long tokens,
                         long elapsedNanos, int stepsThisRun) {
}
