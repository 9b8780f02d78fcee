package io.emend.trainer.policy;

import io.emend.trainer.TrainerConfig;
import io.emend.trainer.gate.GateThresholds;
import io.emend.trainer.job.FineTuneRequest;
import io.emend.trainer.job.InvalidRequest;
import io.emend.trainer.job.TrainingRequests;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** Creating, reading, replacing and deleting retraining policies; acting on deliveries is {@link DatasetIntake}'s. */
@ApplicationScoped
public class RetrainingPolicyService {

    /** Stands in for the data while a policy's recipe is checked; a delivery's files replace it. */
    private static final String PLACEHOLDER = "datasets/policy-check.jsonl";

    private final RetrainingPolicyRepository policies;
    private final int maxSteps;

    RetrainingPolicyService(RetrainingPolicyRepository policies, TrainerConfig config) {
        this.policies = policies;
        this.maxSteps = config.limits().maxSteps();
    }

    public RetrainingPolicy create(String body) {
        long now = Instant.now().getEpochSecond();
        RetrainingPolicy policy = normalize(TrainingRequests.parse(body, RetrainingPolicy.class),
                UUID.randomUUID().toString(), now, now);
        policies.insert(policy);
        return policy;
    }

    public RetrainingPolicy replace(String id, String body) {
        RetrainingPolicy old = get(id);
        RetrainingPolicy policy = normalize(TrainingRequests.parse(body, RetrainingPolicy.class), id, old.createdAt(),
                Instant.now().getEpochSecond());
        if (!policies.update(policy)) {
            throw new PolicyNotFound(id);
        }
        return policy;
    }

    public void delete(String id) {
        if (!policies.delete(id)) {
            throw new PolicyNotFound(id);
        }
    }

    public RetrainingPolicy get(String id) {
        return policies.find(id).orElseThrow(() -> new PolicyNotFound(id));
    }

    public List<RetrainingPolicy> list() {
        return policies.all();
    }

    /**
     * Checks a policy and fills its defaults: every dataset, 1 new example, no replay, the gate's defaults, enabled;
     * the recipe is checked as the fine-tune it will become.
     *
     * @throws InvalidRequest naming the field at fault
     */
    RetrainingPolicy normalize(RetrainingPolicy p, String id, long createdAt, long updatedAt) {
        if (p.id() != null && !p.id().equals(id)) {
            throw new InvalidRequest("id", "id is assigned by the trainer; leave it out");
        }
        TrainingRequests.requireName("model", p.model());
        List<String> datasets = p.datasets() == null ? List.of() : List.copyOf(p.datasets());
        for (int i = 0; i < datasets.size(); i++) {
            if (datasets.get(i) == null || datasets.get(i).isBlank() || datasets.get(i).length() > 200) {
                throw new InvalidRequest("datasets[" + i + "]", "datasets[" + i + "] must be a dataset name or glob"
                        + " (such as support-*) of at most 200 characters");
            }
        }
        int min = p.minNewExamples() == null ? 1 : p.minNewExamples();
        if (min < 1) {
            throw new InvalidRequest("min_new_examples", "min_new_examples must be at least 1, got " + min);
        }
        double replay = p.replayFraction() == null ? 0 : p.replayFraction();
        if (!(replay >= 0 && replay < 1)) {
            throw new InvalidRequest("replay_fraction", "replay_fraction must be in [0, 1), got " + replay);
        }
        if (p.alias() != null) {
            TrainingRequests.requireName("alias", p.alias());
        }
        RetrainingPolicy.Recipe recipe = p.recipe() == null
                ? new RetrainingPolicy.Recipe(null, null, null, null, null) : p.recipe();
        RetrainingPolicy normalized = new RetrainingPolicy(id, p.model(), datasets, min, recipe, replay,
                (p.gate() == null ? GateThresholds.defaults() : p.gate()).withDefaults(), p.alias(),
                p.enabled() == null || p.enabled(), createdAt, updatedAt);
        try {
            TrainingRequests.normalize(request(normalized, List.of(PLACEHOLDER), List.of(), p.model()), p.model(),
                    maxSteps);
        } catch (InvalidRequest e) {
            String field = e.field().startsWith("gate") ? e.field() : "recipe." + e.field();
            throw new InvalidRequest(field, e.getMessage());
        }
        return normalized;
    }

    /**
     * The fine-tune a policy asks for on these files.
     *
     * @param replay the model's earlier datasets; the policy's replay fraction applies only when there are some
     */
    static FineTuneRequest request(RetrainingPolicy p, List<String> training, List<String> replay, String parentRef) {
        RetrainingPolicy.Recipe r = p.recipe();
        RetrainingPolicy.Forgetting f = r.forgetting() == null
                ? new RetrainingPolicy.Forgetting(null, null, null) : r.forgetting();
        double fraction = replay.isEmpty() ? 0 : p.replayFraction();
        return new FineTuneRequest(parentRef, null, training, null, r.seed(), r.hyperparameters(), r.method(),
                r.lora(), new FineTuneRequest.Forgetting(fraction, replay, f.l2sp(), f.hft(), f.orthogonality()),
                p.gate(), new FineTuneRequest.Output(p.model(), p.alias()));
    }
}
