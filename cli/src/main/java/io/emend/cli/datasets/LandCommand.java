package io.emend.cli.datasets;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import io.emend.cli.registry.RegistryClient;
import io.emend.cli.stack.Component;
import io.emend.cli.stack.RunState;
import io.emend.cli.stack.StackPorts;
import io.emend.cli.terminal.Table;
import io.emend.contracts.event.DatasetLanded;
import io.emend.contracts.event.Event;
import io.emend.contracts.store.FilesystemObjectStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "land",
        mixinStandardHelpOptions = true,
        description = {"Copies JSONL files into the local stack's object store under datasets/DATASET/TIMESTAMP/ and"
                + " publishes an io.emend.dataset.landed event for MODEL on emend.datasets, as a data pipeline would.",
                "A retraining policy of the trainer (POST :8082/v1/retraining-policies) turns it into a fine-tune;"
                        + " the trainer, not this command, checks every line and reports a bad one on that job."})
public final class LandCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "The model the data is meant to train (the event's key).")
    String model;

    @Option(names = "--dataset", required = true, paramLabel = "NAME", description = "The dataset's name, which policies match (e.g. support-tickets).")
    String dataset;

    @Parameters(arity = "1..*", paramLabel = "FILE.jsonl", description = "The delivery's files.")
    List<Path> files;

    @Option(names = "--json", description = "Print {id, type, topic, key, prefix, files: [{key, sha256, size}]} as JSON.")
    boolean json;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() throws Exception {
        Workspace workspace = workspaceOption.workspace();
        if (System.getenv("EMEND_S3_BUCKET") != null && !System.getenv("EMEND_S3_BUCKET").isBlank()) {
            // the trainer reads landed files from the filesystem store only (services/trainer/README.md)
            throw new IllegalStateException("EMEND_S3_BUCKET is set, but the trainer reads landed datasets from "
                    + workspace.objects() + " only; unset it to land into the local stack");
        }
        StackPorts ports = RunState.read(workspace).map(RunState::ports).orElseThrow(() -> new IllegalStateException(
                "no stack is running in " + workspace.data() + "; start it with ./emend up --detach"));
        int kafkaPort = ports.port(Component.KAFKA);
        if (!accepting(kafkaPort)) {
            throw new IllegalStateException("Kafka of the stack in " + workspace.data() + " does not answer on port "
                    + kafkaPort + "; ./emend status says what is down, ./emend up --detach starts it");
        }
        Landing.Landed landed;
        try (FilesystemObjectStore store = FilesystemObjectStore.open(workspace.objects())) {
            landed = new Landing(store, "127.0.0.1:" + kafkaPort, Clock.systemUTC()).land(model, dataset, files);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        print(landed.event(), spec.commandLine().getOut());
        return 0;
    }

    private void print(Event<DatasetLanded> event, PrintWriter out) throws IOException {
        if (json) {
            ObjectNode node = RegistryClient.JSON.createObjectNode()
                    .put("id", event.id()).put("type", event.type()).put("topic", event.topic())
                    .put("key", event.key()).put("prefix", event.data().prefix());
            var array = node.putArray("files");
            event.data().files().forEach(f -> array.addObject().put("key", f.key()).put("sha256", f.sha256())
                    .put("size", f.size()));
            out.println(RegistryClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } else {
            out.println("event " + event.id() + " (" + event.type() + ") on " + event.topic() + ", key " + event.key());
            Table table = new Table("KEY", "SHA256", "BYTES");
            event.data().files().forEach(f -> table.row(f.key(), f.sha256(), f.size()));
            table.print(out);
        }
        out.flush();
    }

    private static boolean accepting(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
