package io.emend.merger.registry;

import io.emend.merger.MergerConfig;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * The bearer token the merger shows the registry. A configured {@code emend.merger.registry.token} is used as is;
 * otherwise the merger signs a short-lived token of its own ({@code upn merger}, role {@code admin}, because moving an
 * alias needs it) with the stack's private key, the way {@code ./emend token} does for people. Signing beats a
 * long-lived service token: nothing to rotate, and a leaked token is dead within minutes.
 */
@ApplicationScoped
public class RegistryTokens {

    private static final Duration LIFETIME = Duration.ofMinutes(10);
    /** A token is renewed this long before it expires, so one never dies during a long upload. */
    private static final Duration MARGIN = Duration.ofMinutes(5);

    private final MergerConfig.RegistryConfig config;
    private PrivateKey key;
    private String current;
    private Instant expires = Instant.EPOCH;

    RegistryTokens(MergerConfig config) {
        this.config = config.registry();
    }

    /** The token for the next call. */
    public synchronized String token() {
        if (config.token().isPresent()) {
            return config.token().get();
        }
        Instant now = Instant.now();
        if (now.plus(MARGIN).isAfter(expires)) {
            expires = now.plus(LIFETIME);
            current = Jwt.issuer("emend").upn("merger").groups(Set.of("admin"))
                    .expiresAt(expires.getEpochSecond()).sign(signingKey());
        }
        return current;
    }

    private PrivateKey signingKey() {
        if (key == null) {
            try {
                key = KeyUtils.decodePrivateKey(Files.readString(config.signingKey()));
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                throw new RegistryUnavailable("cannot read the merger's signing key "
                        + config.signingKey().toAbsolutePath() + " (set emend.merger.registry.token or "
                        + "emend.merger.registry.signing-key): " + e.getMessage());
            }
        }
        return key;
    }
}
