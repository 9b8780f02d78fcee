package io.emend.service.registry;

import io.smallrye.config.WithDefault;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How a service reaches the registry: a configuration group each service nests under its own prefix
 * ({@code emend.<service>.registry}), so the keys below read {@code emend.merger.registry.url},
 * {@code emend.trainer.registry.url} and so on.
 */
public interface RegistryConfig {

    /** {@code emend.<service>.registry.url}: the registry's base URL; default {@code http://localhost:8081}. */
    @WithDefault("http://localhost:8081")
    URI url();

    /**
     * {@code emend.<service>.registry.token}: a fixed bearer token for every registry call (it needs {@code admin}
     * when the service moves aliases, else {@code writer}); default: none, the service signs its own tokens with
     * {@link #signingKey()}.
     */
    Optional<String> token();

    /**
     * {@code emend.<service>.registry.signing-key}: PKCS#8 PEM private key the service signs short-lived
     * {@code admin} tokens with (issuer {@code emend}, upn the service's name) when no token is set; default
     * {@code .emend/keys/private.pem}, the key {@code ./emend up} writes.
     */
    @WithDefault(".emend/keys/private.pem")
    Path signingKey();

    /** {@code emend.<service>.registry.timeout}: longest wait for one registry call's answer; default {@code 60s}. */
    @WithDefault("60s")
    Duration timeout();
}
