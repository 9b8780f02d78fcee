package io.emend.service.auth;

import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKey;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Verifies each distinct bearer token once and answers its later uses from memory until it expires.
 *
 * <p>Clients (serving, the merger, the CLI, scripts) send the same token on every request, and verifying it (an
 * RSA-2048 signature check plus JSON parsing) was 39% of the registry's CPU per resolve (bench/RESULTS.md,
 * "Registry"). Every service that depends on the kit gets this parser in place of SmallRye's.
 * A token's verdict cannot change before its {@code exp}: the signing key is fixed for the process's life and
 * Emend does not revoke tokens, so a token string verified once stays valid until then. Only successful
 * verifications are remembered; a bad token is checked (and refused) every time. A hit past its expiry is
 * dropped and verified again, which lets the delegate refuse it with its usual message.
 */
@Alternative
@Priority(1)
@ApplicationScoped
public class VerifiedTokens implements JWTParser {

    /** Bounds memory against a client minting a token per request; past it, expired entries go, then any. */
    static final int CAPACITY = 10_000;

    private final JWTParser delegate;
    private final Clock clock;
    private final Map<String, JsonWebToken> verified = new ConcurrentHashMap<>();

    @Inject
    VerifiedTokens(DefaultJWTParser delegate) {
        this(delegate, Clock.systemUTC());
    }

    VerifiedTokens(JWTParser delegate, Clock clock) {
        this.delegate = delegate;
        this.clock = clock;
    }

    @Override
    public JsonWebToken parse(String token) throws ParseException {
        JsonWebToken known = verified.get(token);
        if (known != null && unexpired(known)) {
            return known;
        }
        if (known != null) {
            verified.remove(token, known);
        }
        JsonWebToken fresh = delegate.parse(token);
        remember(token, fresh);
        return fresh;
    }

    /** Verification against an explicit context is not the request path; it is passed through, never cached. */
    @Override
    public JsonWebToken parse(String token, JWTAuthContextInfo context) throws ParseException {
        return delegate.parse(token, context);
    }

    @Override
    public JsonWebToken verify(String token, PublicKey key) throws ParseException {
        return delegate.verify(token, key);
    }

    @Override
    public JsonWebToken verify(String token, SecretKey key) throws ParseException {
        return delegate.verify(token, key);
    }

    @Override
    public JsonWebToken verify(String token, String secret) throws ParseException {
        return delegate.verify(token, secret);
    }

    @Override
    public JsonWebToken decrypt(String token, PrivateKey key) throws ParseException {
        return delegate.decrypt(token, key);
    }

    @Override
    public JsonWebToken decrypt(String token, SecretKey key) throws ParseException {
        return delegate.decrypt(token, key);
    }

    @Override
    public JsonWebToken decrypt(String token, String secret) throws ParseException {
        return delegate.decrypt(token, secret);
    }

    @Override
    public JsonWebToken parseOnly(String token) throws ParseException {
        return delegate.parseOnly(token);
    }

    int size() {
        return verified.size();
    }

    private boolean unexpired(JsonWebToken token) {
        // exp is in seconds; a token without one was accepted by the delegate's policy and is re-verified each time
        long exp = token.getExpirationTime();
        return exp > 0 && clock.millis() / 1000 < exp;
    }

    private void remember(String token, JsonWebToken jwt) {
        if (!unexpired(jwt)) {
            return;
        }
        if (verified.size() >= CAPACITY) {
            verified.values().removeIf(known -> !unexpired(known));
            Iterator<String> oldest = verified.keySet().iterator();
            while (verified.size() >= CAPACITY && oldest.hasNext()) {
                oldest.next();
                oldest.remove();
            }
        }
        verified.put(token, jwt);
    }
}
