/**
 * Set up for the unit and integration tests: passwords hashed with scrypt at N = 2^10 instead of 2^15, so the
 * seeding of demo users in hundreds of tests costs milliseconds instead of seconds of CPU. Hashes name their own
 * cost, so verification is the same code either way; password.test.ts checks the real cost, and the end-to-end
 * tests run the built PBX, which never calls this.
 */
import { setHashingCostForTests } from '../server/auth/password';

export const TEST_HASHING_COST = 2 ** 10;

setHashingCostForTests(TEST_HASHING_COST);
