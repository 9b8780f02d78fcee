package io.emend.trainer.policy;

import io.emend.contracts.event.DatasetLanded;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.store.StoredObject;
import io.emend.service.stack.Tokens;
import io.emend.trainer.TrainerFixtures;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

import static io.emend.trainer.TrainerApi.WAIT;
import static io.emend.trainer.TrainerApi.as;
import static io.emend.trainer.TrainerApi.awaitState;
import static io.emend.trainer.TrainerApi.importModel;
import static io.emend.trainer.TrainerApi.moveAlias;
import static io.emend.trainer.TrainerApi.publish;
import static io.emend.trainer.TrainerApi.registryGet;
import static io.emend.trainer.TrainerApi.sleep;
import static io.emend.trainer.TrainerApi.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The retraining loop end to end through the real broker and registry: {@code dataset.landed} events on
 * {@code emend.datasets} → the policy gathers examples → one fine-tune per trigger (also when an event is delivered
 * twice) → a registry version → the gate → the alias moved, or left where it was.
 */
@QuarkusTest
class RetrainingLoopTest {

    private static final URI PIPELINE = URI.create("/pipelines/test");

    @Test
    void landedDatasetsRetrainTheModelThroughTheGateOnceEach() throws IOException {
        String model = unique("loop");
        importModel(model, TrainerFixtures.STORIES);
        moveAlias(model, "production", 1);
        String policy = as(Tokens.writer()).body("""
                {"model": "%s", "datasets": ["wiki-*"], "min_new_examples": 20,
                 "recipe": {"hyperparameters": {"steps": 6, "batch_size": 2, "seq_len": 32,
                                                "learning_rate_multiplier": 25, "checkpoint_every": 3},
                            "lora": {"rank": 4, "alpha": 8}},
                 "replay_fraction": 0.25,
                 "gate": {"max_held_out_ratio": 1.0, "max_retention_increase": 10.0},
                 "alias": "production"}
                """.formatted(model)).post("/v1/retraining-policies").then().statusCode(201)
                .header("Location", containsString("/v1/retraining-policies/"))
                .body("enabled", equalTo(true))
                .body("gate.max_negative_flips", equalTo(0))
                .extract().path("id");

        // 10 examples: fewer than the policy's 20, so they wait; another dataset's delivery does not count
        Event<DatasetLanded> first = landed(model, "wiki-a", 0, 10);
        publish(first);
        publish(landed(model, "tickets", 10, 30));
        // 30 more: 40 gathered, one job on both deliveries; the event is delivered twice
        Event<DatasetLanded> second = landed(model, "wiki-b", 40, 30);
        publish(second);
        publish(second);

        String job1 = awaitJobs(policy, 1).getFirst();
        awaitState(job1, "succeeded")
                .body("parent", equalTo(model + ":1"))
                .body("fine_tuned_model", equalTo(model + ":2"))
                .body("files.findAll { it.role == 'training' }.size()", equalTo(2))
                .body("files.findAll { it.role == 'replay' }.size()", equalTo(0))
                .body("result.gate.passed", equalTo(true))
                .body("result.alias_moved", equalTo(true));
        registryGet("/v1/models/" + model + "/aliases/production").body("version", equalTo(2));
        registryGet("/v1/models/" + model + "/versions/2").body("operation", equalTo("finetune"))
                .body("parents[0].role", equalTo("adapter-of")).body("recipe.policy", equalTo(policy));

        // a stricter gate: the next version cannot pass, so the alias stays on version 2
        as(Tokens.writer()).body("""
                {"model": "%s", "datasets": ["wiki-*"], "min_new_examples": 20,
                 "recipe": {"hyperparameters": {"steps": 4, "batch_size": 2, "seq_len": 32,
                                                "learning_rate_multiplier": 25}},
                 "replay_fraction": 0.25, "gate": {"max_held_out_ratio": 0.01}, "alias": "production"}
                """.formatted(model)).put("/v1/retraining-policies/{id}", policy).then().statusCode(200)
                .body("gate.max_held_out_ratio", equalTo(0.01f));
        publish(first);
        publish(landed(model, "wiki-c", 80, 25));

        List<String> jobs = awaitJobs(policy, 2);
        String job2 = jobs.getFirst();
        // production is version 2, an adapter: the job trains on base 1 with that adapter applied, replaying a and b
        awaitState(job2, "succeeded")
                .body("parent", equalTo(model + ":2"))
                .body("fine_tuned_model", equalTo(model + ":3"))
                .body("files.findAll { it.role == 'replay' }.size()", equalTo(2))
                .body("result.gate.figures.retention_perplexity_before", notNullValue())
                .body("result.gate.passed", equalTo(false))
                .body("result.alias_moved", equalTo(false))
                .body("message", containsString("was left where it was"));
        registryGet("/v1/models/" + model + "/aliases/production").body("version", equalTo(2));
        registryGet("/v1/models/" + model + "/versions/3")
                .body("parents[0].number", equalTo(2)).body("parents[0].role", equalTo("adapter-of"))
                .body("recipe.base", equalTo(model + ":1"))
                .body("state", equalTo("ready"));
        // the redelivered events (processed before wiki-c, which came after them) made no job
        assertEquals(2, jobsOf(policy).size());
    }

    @Test
    void policiesAreCheckedAndCanBeDeleted() {
        expectField("{\"model\": \"m\", \"min_new_examples\": 0}", "min_new_examples", "at least 1");
        expectField("{\"model\": \"Not A Name\"}", "model", "not a valid name");
        expectField("{\"model\": \"m\", \"replay_fraction\": 1}", "replay_fraction", "[0, 1)");
        expectField("{\"model\": \"m\", \"recipe\": {\"hyperparameters\": {\"batch_size\": 0}}}",
                "recipe.hyperparameters.batch_size", "at least 1");
        expectField("{\"model\": \"m\", \"recipe\": {\"method\": \"qlora\"}}", "recipe.method", "valid methods");
        expectField("{\"model\": \"m\", \"gate\": {\"max_negative_flips\": -1}}", "gate.max_negative_flips",
                "non-negative");
        expectField("{\"model\": \"m\", \"schedule\": \"daily\"}", "schedule", "unknown field");

        String id = as(Tokens.writer()).body("{\"model\": \"" + unique("m") + "\"}").post("/v1/retraining-policies")
                .then().statusCode(201).body("min_new_examples", equalTo(1)).body("datasets.size()", equalTo(0))
                .extract().path("id");
        as(Tokens.reader()).get("/v1/retraining-policies").then().statusCode(200).body("data.id", hasItems(id));
        as(Tokens.reader()).body("{\"model\": \"x\"}").put("/v1/retraining-policies/{id}", id).then().statusCode(403);
        as(Tokens.writer()).delete("/v1/retraining-policies/{id}", id).then().statusCode(204);
        as(Tokens.reader()).get("/v1/retraining-policies/{id}", id).then().statusCode(404)
                .contentType("application/problem+json");
        as(Tokens.writer()).delete("/v1/retraining-policies/{id}", id).then().statusCode(404);
    }

    private static void expectField(String body, String field, String detail) {
        as(Tokens.writer()).body(body).post("/v1/retraining-policies").then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors[0].field", equalTo(field))
                .body("detail", containsString(detail));
    }

    /** A delivery of WikiText lines {@code [skip, skip + count)} as one JSONL file in the object store. */
    private static Event<DatasetLanded> landed(String model, String dataset, int skip, int count) throws IOException {
        String prefix = "datasets/" + model + "/" + dataset + "/";
        StoredObject file = TrainerFixtures.putObject(prefix + "part-0.jsonl", TrainerFixtures.wikiJsonl(skip, count));
        return Event.of(PIPELINE, EventTypes.DATASET_LANDED, model + "/" + dataset, new DatasetLanded(model, dataset,
                prefix, "jsonl", List.of(new DatasetLanded.File(file.key(), file.sha256().orElseThrow(),
                        file.size()))));
    }

    /** The policy's jobs, newest first, once there are {@code count}. */
    private static List<String> awaitJobs(String policy, int count) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<String> jobs = jobsOf(policy);
            if (jobs.size() >= count) {
                assertEquals(count, jobs.size(), "jobs of policy " + policy + ": " + jobs);
                return jobs;
            }
            sleep(200);
        }
        throw new AssertionError("policy " + policy + " made " + jobsOf(policy).size() + " jobs, expected " + count);
    }

    private static List<String> jobsOf(String policy) {
        List<Map<String, Object>> all = as(Tokens.reader()).get("/v1/fine-tunes").then().statusCode(200)
                .extract().path("data");
        return all.stream().filter(j -> policy.equals(j.get("policy_id"))).map(j -> (String) j.get("id")).toList();
    }
}
