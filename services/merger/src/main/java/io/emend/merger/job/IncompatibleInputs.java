package io.emend.merger.job;

/**
 * Input models that exist but cannot be merged as the recipe asks: other architectures, tensors missing or of other
 * shapes, layer ranges past a model's depth, tokenizers that number tokens differently, unreadable model files, and,
 * found only while merging, NaN or infinite weights. Answered as a 422 at submission; a job that fails for it carries
 * the same problem.
 */
public class IncompatibleInputs extends RuntimeException {

    /** The problem type's reason, {@code urn:emend:problem:invalid-input}, at submission and on a failed job. */
    public static final String PROBLEM = "invalid-input";
    /** The status of that problem. */
    public static final int STATUS = 422;

    public IncompatibleInputs(String message) {
        super(message);
    }
}
