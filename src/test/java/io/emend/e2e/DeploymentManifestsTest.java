package io.emend.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment files (docker-compose.yml, k8s/) cannot be run here (no Docker engine, no cluster), so this checks
 * what silently breaks them: a setting whose name no service reads (a typo in an environment variable is ignored by
 * Quarkus, not refused), a port that is not the service's, a probe path the service does not serve, and a trainer that
 * may not create its Jobs.
 */
class DeploymentManifestsTest {

    private static final Path ROOT = Path.of(System.getProperty("emend.root"));
    private static final List<String> SERVICES = List.of("registry", "trainer", "editor", "merger", "serving");
    /** Duplicate keys are an error to Docker Compose and kubectl, so here too. */
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** A key documented in a config interface's Javadoc, or one that a default or a property expands ({@code ${key}}). */
    private static final Pattern DOCUMENTED_KEY =
            Pattern.compile("(?:\\{@code |\\$\\{)((?:emend|quarkus|mp|kafka)\\.[a-z0-9.\\-]+)");

    @Test
    void everyEnvironmentVariableIsASettingTheServiceReads() throws IOException {
        Map<String, Set<String>> known = new HashMap<>();
        for (String service : SERVICES) {
            known.put(service, settingsOf(service));
        }
        List<String> unknown = new ArrayList<>();
        JsonNode compose = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile());
        for (String service : SERVICES) {
            compose.path("services").path(service).path("environment").properties().forEach(e -> {
                if (!known.get(service).contains(e.getKey())) {
                    unknown.add("docker-compose.yml " + service + ": " + e.getKey());
                }
            });
        }
        // The shared ConfigMap goes to every service: each of its keys must be read by at least one.
        for (JsonNode doc : k8s("base/config.yaml")) {
            doc.path("data").properties().forEach(e -> {
                if (known.values().stream().noneMatch(k -> k.contains(e.getKey()))) {
                    unknown.add("k8s/base/config.yaml: " + e.getKey());
                }
            });
        }
        for (String service : SERVICES) {
            for (JsonNode doc : k8s("base/" + service + ".yaml")) {
                for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
                    for (JsonNode env : container.path("env")) {
                        if (!known.get(service).contains(env.path("name").asText())) {
                            unknown.add("k8s/base/" + service + ".yaml: " + env.path("name").asText());
                        }
                    }
                }
            }
        }
        assertTrue(unknown.isEmpty(), "settings no service reads: " + unknown);
    }

    @Test
    void trainerPropertiesInBothOverlaysAreSettingsTheTrainerReads() throws IOException {
        Set<String> trainer = settingsOf("trainer");
        List<String> properties = new ArrayList<>();
        for (JsonNode doc : k8s("base/trainer.yaml")) {
            if (doc.path("kind").asText().equals("ConfigMap")) {
                properties.add(doc.path("data").path("application.properties").asText());
            }
        }
        JsonNode gpu = k8s("overlays/gpu/kustomization.yaml").getFirst();
        for (JsonNode patch : gpu.path("patches")) {
            for (JsonNode op : YAML.readTree(patch.path("patch").asText())) {
                properties.add(op.path("value").asText());
            }
        }
        assertEquals(2, properties.size(), "the base's trainer properties and the gpu overlay's replacement");
        for (String text : properties) {
            Properties p = new Properties();
            p.load(new StringReader(text));
            assertFalse(p.isEmpty());
            for (String key : p.stringPropertyNames()) {
                // a map setting's entries carry their own key after the map's name
                String name = key.startsWith("emend.trainer.kubernetes.node-selector.")
                        ? "emend.trainer.kubernetes.node-selector" : key;
                assertTrue(trainer.contains(environmentName(name)), "the trainer reads no setting " + key);
            }
        }
        assertTrue(properties.get(1).contains("emend.trainer.kubernetes.gpus=1"));
    }

    @Test
    void portsProbesAndPermissionsMatchTheServices() throws IOException {
        JsonNode compose = YAML.readTree(ROOT.resolve("docker-compose.yml").toFile());
        for (String service : SERVICES) {
            int port = Integer.parseInt(applicationProperties(service).getProperty("quarkus.http.port"));
            assertEquals(port + ":" + port, compose.path("services").path(service).path("ports").get(0).asText(), service);
            assertEquals(service, compose.path("services").path(service).path("command").get(0).asText());
            JsonNode deployment = kind(k8s("base/" + service + ".yaml"), "Deployment");
            JsonNode container = deployment.path("spec").path("template").path("spec").path("containers").get(0);
            assertEquals(port, container.path("ports").get(0).path("containerPort").asInt(), service);
            assertEquals(service, container.path("args").get(0).asText());
            assertEquals("/q/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
            assertEquals(port, kind(k8s("base/" + service + ".yaml"), "Service").path("spec").path("ports").get(0)
                    .path("port").asInt(), service);
            assertTrue(Files.readString(ROOT.resolve("services/" + service + "/pom.xml")).contains("quarkus-smallrye-health"),
                    service + " serves the probes' /q/health endpoints");
        }
        JsonNode trainer = kind(k8s("base/trainer.yaml"), "Deployment").path("spec").path("template").path("spec");
        assertEquals("emend-trainer", trainer.path("serviceAccountName").asText());
        JsonNode rule = kind(k8s("base/trainer.yaml"), "Role").path("rules").get(0);
        assertEquals("batch", rule.path("apiGroups").get(0).asText());
        assertTrue(rule.path("verbs").toString().contains("create") && rule.path("verbs").toString().contains("delete"));
        List<String> resources = new ArrayList<>();
        k8s("base/kustomization.yaml").getFirst().path("resources").forEach(r -> resources.add(r.asText()));
        for (String service : SERVICES) {
            assertTrue(resources.contains(service + ".yaml"), "kustomization lists " + service);
        }
    }

    /**
     * The environment-variable names a service reads: its application.properties keys and the keys its config
     * interfaces document, in MicroProfile Config's environment form (non-alphanumerics to '_', upper case).
     */
    private static Set<String> settingsOf(String service) throws IOException {
        Set<String> keys = new TreeSet<>();
        for (String key : applicationProperties(service).stringPropertyNames()) {
            keys.add(key.replaceFirst("^%[a-z]+\\.", ""));
        }
        List<Path> sources = new ArrayList<>(List.of(
                ROOT.resolve("services/" + service + "/src/main/resources/application.properties")));
        for (Path dir : List.of(ROOT.resolve("services/" + service + "/src/main/java"),
                ROOT.resolve("services/kit/src/main/java"))) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
            }
        }
        for (Path source : sources) {
            Matcher m = DOCUMENTED_KEY.matcher(Files.readString(source));
            while (m.find()) {
                keys.add(m.group(1).replaceAll("\\.$", ""));
            }
        }
        Set<String> names = new TreeSet<>();
        keys.forEach(k -> names.add(environmentName(k)));
        return names;
    }

    private static String environmentName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase();
    }

    private static Properties applicationProperties(String service) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(ROOT.resolve("services/" + service + "/src/main/resources/application.properties"))) {
            p.load(in);
        }
        return p;
    }

    private static List<JsonNode> k8s(String file) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = (YAMLParser) YAML.getFactory().createParser(ROOT.resolve("k8s").resolve(file).toFile())) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs;
    }

    private static JsonNode kind(List<JsonNode> docs, String kind) {
        return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind));
    }
}
