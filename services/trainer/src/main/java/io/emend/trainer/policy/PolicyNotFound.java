package io.emend.trainer.policy;

/** No retraining policy has this id. */
public class PolicyNotFound extends RuntimeException {
    public PolicyNotFound(String id) {
        super("no retraining policy " + id);
    }
}
