package io.emend.registry;

import io.emend.contracts.event.Topics;
import io.emend.stack.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * A real Kafka broker (KRaft, child JVM) for the registry's tests, with the registry's two topics created up front
 * (three partitions each, so per-model ordering is actually exercised). Tests that stop and restart it get it
 * injected into a field marked {@link InjectKafkaBroker}.
 */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    /** Marks the test field that receives the running {@link KafkaBroker}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface InjectKafkaBroker {
    }

    private KafkaBroker broker;
    private Path dataDir;

    @Override
    public Map<String, String> start() {
        try {
            dataDir = Files.createTempDirectory("emend-registry-kafka");
            broker = new KafkaBroker(KafkaBroker.Config.of(dataDir));
            broker.start();
            createTopics(broker.bootstrapServers());
            return Map.of("emend.registry.relay.bootstrap-servers", broker.bootstrapServers());
        } catch (IOException e) {
            throw new UncheckedIOException("the test Kafka broker did not start", e);
        }
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(broker,
                new TestInjector.AnnotatedAndMatchesType(InjectKafkaBroker.class, KafkaBroker.class));
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** Creates the registry's topics, three partitions each. */
    static void createTopics(String bootstrap) {
        Properties settings = new Properties();
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(settings)) {
            admin.createTopics(List.of(new NewTopic(Topics.VERSIONS, 3, (short) 1),
                    new NewTopic(Topics.ALIASES, 3, (short) 1))).all().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create the registry's topics", e.getCause());
        }
    }
}
