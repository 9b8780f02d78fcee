package io.emend.service.registry;

import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * The bearer token a service shows the registry. A configured {@code emend.<service>.registry.token} is used as is;
 * otherwise the service signs a short-lived token of its own ({@code upn} the service's name, role {@code admin},
 * because moving an alias needs it) with the stack's private key, the way {@code ./emend token} does for people.
 * Signing beats a long-lived service token: nothing to rotate, and a leaked token is dead within minutes.
 */
public class RegistryTokens {

    private static final Duration LIFETIME = Duration.ofMinutes(10);
    /** A token is renewed this long before it expires, so one never dies during a long upload. */
    private static final Duration MARGIN = Duration.ofMinutes(5);

    private final RegistryConfig config;
    private final String service;
    private PrivateKey key;
    private String current;
    private Instant expires = Instant.EPOCH;

    /**
     * @param service the service's name: the tokens' {@code upn}, and the middle of its configuration keys
     *                ({@code emend.<service>.registry.*}) in messages
     */
    public RegistryTokens(RegistryConfig config, String service) {
        this.config = config;
        this.service = service;
    }

    /** The token for the next call. */
    public synchronized String token() {
        if (config.token().isPresent()) {
            return config.token().get();
        }
        Instant now = Instant.now();
        if (now.plus(MARGIN).isAfter(expires)) {
            expires = now.plus(LIFETIME);
            current = Jwt.issuer("emend").upn(service).groups(Set.of("admin"))
                    .expiresAt(expires.getEpochSecond()).sign(signingKey());
        }
        return current;
    }

    private PrivateKey signingKey() {
        if (key == null) {
            try {
                key = KeyUtils.decodePrivateKey(Files.readString(config.signingKey()));
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                String prefix = "emend." + service + ".registry.";
                throw new RegistryUnavailable("cannot read the " + service + "'s signing key "
                        + config.signingKey().toAbsolutePath() + " (set " + prefix + "token or " + prefix
                        + "signing-key): " + e.getMessage());
            }
        }
        return key;
    }
}
