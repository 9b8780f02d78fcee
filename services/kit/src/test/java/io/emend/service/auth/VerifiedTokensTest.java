package io.emend.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;
import io.smallrye.jwt.build.Jwt;
import java.lang.reflect.InvocationHandler;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.junit.jupiter.api.Test;

/** The cache in front of the real SmallRye verifier, configured as the services configure it (RS256, issuer emend). */
class VerifiedTokensTest {

    private static final KeyPair KEYS = keyPair();

    private final AtomicInteger verifications = new AtomicInteger();
    private final JWTParser real = countingParser();

    @Test
    void verifiesATokenOnceAndAnswersItsLaterUsesFromMemory() throws ParseException {
        VerifiedTokens tokens = new VerifiedTokens(real, Clock.systemUTC());
        String reader = token("rita", "reader");

        JsonWebToken first = tokens.parse(reader);
        JsonWebToken second = tokens.parse(reader);

        assertSame(first, second);
        assertEquals(1, verifications.get());
        assertEquals(Set.of("reader"), first.getGroups());
    }

    @Test
    void neverRemembersARefusal() {
        VerifiedTokens tokens = new VerifiedTokens(real, Clock.systemUTC());
        String forged = token("rita", "reader").substring(0, token("rita", "reader").length() - 4) + "AAAA";

        assertThrows(ParseException.class, () -> tokens.parse(forged));
        assertThrows(ParseException.class, () -> tokens.parse(forged));
        assertEquals(2, verifications.get());
        assertEquals(0, tokens.size());
    }

    @Test
    void verifiesAgainOnceTheTokenHasExpired() throws ParseException {
        String token = token("eve", "reader");
        MovableClock clock = new MovableClock(Instant.now());
        VerifiedTokens tokens = new VerifiedTokens(real, clock);
        JsonWebToken verified = tokens.parse(token);
        tokens.parse(token);
        assertEquals(1, verifications.get());

        clock.now = Instant.ofEpochSecond(verified.getExpirationTime() + 1);
        tokens.parse(token);
        assertEquals(2, verifications.get(), "a remembered token past its exp is verified again");
        assertEquals(0, tokens.size(), "and not remembered again, its exp having passed");
    }

    @Test
    void staysBoundedWhenEveryRequestBringsANewToken() throws ParseException {
        VerifiedTokens tokens = new VerifiedTokens(real, Clock.systemUTC());
        for (int i = 0; i < VerifiedTokens.CAPACITY + 50; i++) {
            tokens.parse(Jwt.issuer("emend").upn("user" + i).groups("reader").expiresIn(60).sign(KEYS.getPrivate()));
        }
        assertEquals(VerifiedTokens.CAPACITY, tokens.size());
    }

    /** A clock a test moves by hand. */
    private static final class MovableClock extends Clock {
        Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private JWTParser countingParser() {
        JWTAuthContextInfo context = new JWTAuthContextInfo(KEYS.getPublic(), "emend");
        context.setGroupsPath("groups");
        JWTParser parser = new DefaultJWTParser(context);
        InvocationHandler counting = (proxy, method, args) -> {
            verifications.incrementAndGet();
            try {
                return method.invoke(parser, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (JWTParser) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {JWTParser.class},
                counting);
    }

    private static String token(String user, String... roles) {
        return Jwt.issuer("emend").upn(user).groups(Set.of(roles)).expiresIn(3600).sign(KEYS.getPrivate());
    }

    private static KeyPair keyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
