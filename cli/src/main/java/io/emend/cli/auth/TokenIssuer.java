package io.emend.cli.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/**
 * Mints the bearer tokens the services accept: compact JWS, RS256, issuer {@code emend}, the user in {@code upn} and
 * {@code sub}, the role (with the roles it implies) in {@code groups}, as MicroProfile JWT expects them.
 */
public final class TokenIssuer {

    public static final String ISSUER = "emend";
    public static final Duration MAX_TTL = Duration.ofDays(365);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final SigningKeys keys;
    private final Clock clock;

    public TokenIssuer(SigningKeys keys, Clock clock) {
        this.keys = keys;
        this.clock = clock;
    }

    public TokenIssuer(SigningKeys keys) {
        this(keys, Clock.systemUTC());
    }

    /** A token for {@code user} holding {@code role}, valid from now for {@code ttl}. */
    public Token issue(String user, Role role, Duration ttl) {
        if (user == null || user.isBlank()) {
            throw new IllegalArgumentException("the token's user is empty; pass --user NAME");
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("--ttl must be between 1 second and 365 days, got " + ttl);
        }
        Instant now = clock.instant();
        Instant expires = now.plus(ttl);
        ObjectNode header = JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT");
        ObjectNode claims = JSON.createObjectNode()
                .put("iss", ISSUER)
                .put("sub", user)
                .put("upn", user)
                .put("iat", now.getEpochSecond())
                .put("exp", expires.getEpochSecond())
                .put("jti", UUID.randomUUID().toString());
        role.groups().forEach(claims.putArray("groups")::add);
        String signingInput = encode(header) + "." + encode(claims);
        try {
            Signature rs256 = Signature.getInstance("SHA256withRSA");
            rs256.initSign(keys.privateKey());
            rs256.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return new Token(signingInput + "." + BASE64URL.encodeToString(rs256.sign()), user, role, expires);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the token: " + e.getMessage(), e);
        }
    }

    private static String encode(ObjectNode json) {
        try {
            return BASE64URL.encodeToString(JSON.writeValueAsBytes(json));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A signed token and what it says. */
    public record Token(String compact, String user, Role role, Instant expiresAt) {
    }
}
