package io.emend.bench.edit;

import io.emend.core.edit.EditRequest;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A generated world of invented people, each with a home city and a job, told in several phrasings: the corpus the
 * fact model is trained on and the edit requests run against it. Names are built from syllables, so no pretrained
 * model could know them; values are common words, so the tokenizer of {@code stories260k} spells them in few pieces.
 *
 * <p>Each relation has {@link #TRAINING_TEMPLATES} phrasings that appear in the training text and one that never does
 * (the paraphrase test: a context clause the model never saw in front of a trained phrasing, as CounterFact's
 * paraphrases put an unrelated sentence before the prompt).
 *
 * @param people   names, unique
 * @param values   per person, per relation: the true value
 * @param phrasing where the subject stands in the phrasings
 */
public record FactCorpus(List<String> people, int[][] values, Phrasing phrasing) {

    /**
     * Where the subject stands. A 4-layer model trained on subject-first phrasings reads the fact at the prompt's last
     * token, in its last MLP, from name pieces that attention gathers there (the causal trace in bench/RESULTS.md);
     * ROME and MEMIT write at the subject's last token and so reach the fact only through the one or two layers of
     * attention that follow. With the relation first and the subject last, the subject's last token is where the
     * value is predicted, and the fact is read where the editor writes.
     */
    public enum Phrasing {
        /** "{} lives in the city of" → value. */
        SUBJECT_FIRST,
        /**
         * "The home city of {}" → value, and values whose first token differs from every other value of the relation
         * (with this 512-piece vocabulary "Paris", "Rome" and "Cairo" all start with a bare "▁", "baker" and "builder"
         * with "▁b"). An edit changes what is said at one position; a value that shares its first token with the old
         * one is finished at the next positions, which read the name again through attention and continue the old
         * value: before this, those edits were the ones missed.
         */
        SUBJECT_LAST
    }

    /** A relation: per {@link Phrasing} its possible values, the phrasings trained on and the held-out one. */
    public enum Relation {
        CITY(List.of("Paris", "London", "Rome", "Berlin", "Madrid", "Tokyo", "Cairo", "Lima", "Oslo", "Dublin",
                "Vienna", "Prague", "Boston", "Denver", "Sydney", "Moscow"),
                List.of("{} lives in the city of", "{} has a house in", "The home of {} is in", "{} moved to the city of"),
                "People in town say that {} lives in the city of",
                List.of("London", "Berlin", "Madrid", "Tokyo", "Oslo", "Sydney", "Hanoi", "Helsinki", "Istanbul"),
                List.of("The home city of {}", "The city that is home to {}", "The town where you find {}",
                        "The place with the house of {}"),
                "People in town say that the home of {}"),
        JOB(List.of("doctor", "farmer", "baker", "teacher", "pilot", "painter", "singer", "nurse", "cook", "driver",
                "dancer", "writer", "fisher", "builder", "tailor", "judge"),
                List.of("{} works as a", "{} has a job as a", "The job of {} is a", "Every day {} goes to work as a"),
                "People in town say that {} works as a",
                List.of("doctor", "farmer", "baker", "teacher", "pilot", "singer", "nurse", "cook", "writer", "miner",
                        "lawyer", "actor", "hunter", "guard", "king", "driver"),
                List.of("The job of {}", "The work done by {}", "The trade of {}", "Every day the work of {}"),
                "People in town say that the job of {}");

        private final List<String> values;
        private final List<String> training;
        private final String heldOut;
        private final List<String> valuesSubjectLast;
        private final List<String> trainingSubjectLast;
        private final String heldOutSubjectLast;

        Relation(List<String> values, List<String> training, String heldOut, List<String> valuesSubjectLast,
                 List<String> trainingSubjectLast, String heldOutSubjectLast) {
            this.values = values;
            this.training = training;
            this.heldOut = heldOut;
            this.valuesSubjectLast = valuesSubjectLast;
            this.trainingSubjectLast = trainingSubjectLast;
            this.heldOutSubjectLast = heldOutSubjectLast;
        }

        public List<String> objects(Phrasing p) {
            return p == Phrasing.SUBJECT_FIRST ? values : valuesSubjectLast;
        }

        public List<String> training(Phrasing p) {
            return p == Phrasing.SUBJECT_FIRST ? training : trainingSubjectLast;
        }

        public String heldOut(Phrasing p) {
            return p == Phrasing.SUBJECT_FIRST ? heldOut : heldOutSubjectLast;
        }
    }

    /** Phrasings per relation in the training text. */
    public static final int TRAINING_TEMPLATES = 4;

    private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br",
            "dr", "gr", "kr", "tr", "st", "sh", "ch"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ou"};
    private static final String[] CODAS = {"", "n", "r", "l", "s", "m", "k"};

    /** First and family names made of words the TinyStories tokenizer knows, for short (2–4 token) names. */
    private static final List<String> FIRST = List.of("Lily", "Tom", "Ben", "Sue", "Max", "Mia", "Sam", "Anna", "Tim",
            "Lucy", "Jack", "Sara", "Bob", "Amy", "Jake", "Emma", "Leo", "Zoe", "Dan", "Kim", "Joe", "Mary", "Ted", "Lola",
            "Finn", "Rose", "Jim", "Ella", "Pete", "Nina");
    private static final List<String> FAMILY = List.of("Green", "Brown", "Stone", "Hill", "Wood", "Lake", "Bird",
            "Fox", "Bell", "Snow", "Rain", "Star", "Moon", "Sun", "Tree", "Rock", "Park", "Field", "Frog", "Bear",
            "Cloud", "Leaf", "Flower", "King", "Ship", "Road", "River", "Sky", "Cake", "Ball");

    /** How people are named. */
    public enum Names {
        /** Invented syllables, first and family name ("Drou Kaishtrem"): 8–14 pieces of the 512-piece vocabulary. */
        SYLLABLES,
        /**
         * Known words ("Lily Stone", 2–4 tokens), at most 900 people; each family name is shared by many people, so the
         * subject's last token does not tell them apart.
         */
        WORDS,
        /**
         * A known first name and an invented family name of one's own that the fact model's tokenizer holds as a single
         * token ("Lily Kaishtrem", {@link #familyTokens()}): the subject's last token is distinctive, as "Obama" is in a
         * real model's vocabulary.
         */
        TOKEN
    }

    /** {@code count} people with seeded random names (built from syllables) and values. */
    public static FactCorpus generate(int count, long seed) {
        return generate(count, seed, Names.SYLLABLES, Phrasing.SUBJECT_FIRST);
    }

    /** {@code count} people with seeded random names of the given style, and values, told in the given phrasing. */
    public static FactCorpus generate(int count, long seed, Names style, Phrasing phrasing) {
        SplittableRandom rng = new SplittableRandom(seed);
        Set<String> names = new LinkedHashSet<>();
        if (style == Names.WORDS && count > FIRST.size() * FAMILY.size()) {
            throw new IllegalArgumentException("short names allow at most " + FIRST.size() * FAMILY.size() + " people");
        }
        Set<String> families = new LinkedHashSet<>();
        while (names.size() < count) {
            names.add(switch (style) {
                case WORDS -> FIRST.get(rng.nextInt(FIRST.size())) + " " + FAMILY.get(rng.nextInt(FAMILY.size()));
                case SYLLABLES -> capitalize(word(rng, 2)) + " " + capitalize(word(rng, 2 + rng.nextInt(2)));
                case TOKEN -> {
                    // One family per person, none the start of another: a single-token family name must not match
                    // inside a longer one.
                    String family;
                    do {
                        family = capitalize(word(rng, 3));
                    } while (!families.add(family) || prefixClash(family, families));
                    yield FIRST.get(rng.nextInt(FIRST.size())) + " " + family;
                }
            });
        }
        Relation[] relations = Relation.values();
        int[][] values = new int[count][relations.length];
        for (int p = 0; p < count; p++) {
            for (int r = 0; r < relations.length; r++) {
                values[p][r] = rng.nextInt(relations[r].objects(phrasing).size());
            }
        }
        return new FactCorpus(List.copyOf(names), values, phrasing);
    }

    private static boolean prefixClash(String family, Set<String> families) {
        for (String f : families) {
            if (!f.equals(family) && (f.startsWith(family) || family.startsWith(f))) {
                families.remove(family);
                return true;
            }
        }
        return false;
    }

    /**
     * The family names, in people order: with {@link Names#TOKEN} each is one token of the fact model's tokenizer
     * ({@link FactModel#initialize}).
     */
    public List<String> familyTokens() {
        return people.stream().map(n -> n.substring(n.indexOf(' ') + 1)).toList();
    }

    private static String word(SplittableRandom rng, int syllables) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < syllables; i++) {
            b.append(ONSETS[rng.nextInt(ONSETS.length)]).append(VOWELS[rng.nextInt(VOWELS.length)]);
        }
        return b.append(CODAS[rng.nextInt(CODAS.length)]).toString();
    }

    private static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    public String value(int person, Relation relation) {
        return relation.objects(phrasing).get(values[person][relation.ordinal()]);
    }

    /** Every fact of every person in every training phrasing, one sentence each ("Bo Kai lives in Rome."). */
    public List<String> trainingSentences() {
        List<String> out = new ArrayList<>();
        for (int p = 0; p < people.size(); p++) {
            for (Relation r : Relation.values()) {
                for (String t : r.training(phrasing)) {
                    out.add(sentence(t, p, r));
                }
            }
        }
        return out;
    }

    /** The sentences of people {@code from..to-1} in the training phrasings, as one text (for perplexity). */
    public String text(int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int p = from; p < to; p++) {
            for (Relation r : Relation.values()) {
                for (String t : r.training(phrasing)) {
                    b.append(sentence(t, p, r)).append(' ');
                }
            }
        }
        return b.toString().strip();
    }

    private String sentence(String template, int person, Relation r) {
        return template.replace("{}", people.get(person)) + " " + value(person, r) + ".";
    }

    /** Which relation a person's edit changes: people alternate, so both relations are edited equally. */
    public static Relation editedRelation(int person) {
        return Relation.values()[person % Relation.values().length];
    }

    /**
     * Requests that rewrite one fact of each of the people {@code 0..count-1} (the relation alternates) to another
     * value, seeded: prompt in the first training phrasing, paraphrase in the held-out one, and as locality prompt the
     * same relation of one of the never-edited people {@code neighborsFrom..people-1}, which must keep its answer.
     */
    public List<EditRequest> edits(int count, int neighborsFrom, long seed) {
        if (count > neighborsFrom || neighborsFrom >= people.size()) {
            throw new IllegalArgumentException("edits need people 0.." + (count - 1) + " and neighbours from "
                    + neighborsFrom + " among " + people.size());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int neighbors = people.size() - neighborsFrom;
        List<EditRequest> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            Relation r = editedRelation(p);
            int old = values[p][r.ordinal()];
            List<String> objects = r.objects(phrasing);
            int fresh = (old + 1 + rng.nextInt(objects.size() - 1)) % objects.size();
            int n = neighborsFrom + p % neighbors;
            out.add(new EditRequest(r.training(phrasing).getFirst(), people.get(p), objects.get(fresh),
                    Optional.of(objects.get(old)), Optional.of(r.heldOut(phrasing)),
                    Optional.of(r.training(phrasing).getFirst().replace("{}", people.get(n))),
                    Optional.of(value(n, r))));
        }
        return out;
    }

    /**
     * Requests whose target is the true value, one per fact of people {@code from..to-1} and phrasing: the fact model's
     * knowledge test (teacher-forced argmax of the value's tokens). {@code heldOut} picks the never-trained phrasing.
     */
    public List<EditRequest> knowledge(int from, int to, boolean heldOut) {
        List<EditRequest> out = new ArrayList<>();
        for (int p = from; p < to; p++) {
            for (Relation r : Relation.values()) {
                List<String> templates = heldOut ? List.of(r.heldOut(phrasing)) : r.training(phrasing);
                for (String t : templates) {
                    out.add(EditRequest.of(t, people.get(p), value(p, r)));
                }
            }
        }
        return out;
    }
}
