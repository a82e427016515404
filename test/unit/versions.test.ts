import { describe, expect, it } from 'vitest';
import { FIRST_MAJOR_WITH, majorOf, versionFeatures } from '../../src/core/versions.js';

describe('what differs between PostgreSQL majors', () => {
  it('reads the major from server_version_num, as text or as a number', () => {
    expect(majorOf('150012')).toBe(15);
    expect(majorOf('160008')).toBe(16);
    expect(majorOf(170004)).toBe(17);
    expect(majorOf('180000')).toBe(18);
    // Before 10 the major had two parts (9.6 is 90624): the first is what is left.
    expect(majorOf('90624')).toBe(9);
  });

  it('names the locale column pg_database has: daticulocale up to 16, datlocale from 17', () => {
    expect(versionFeatures(15).databaseLocaleColumn).toBe('daticulocale');
    expect(versionFeatures(16).databaseLocaleColumn).toBe('daticulocale');
    expect(versionFeatures(17).databaseLocaleColumn).toBe('datlocale');
    expect(versionFeatures(18).databaseLocaleColumn).toBe('datlocale');
  });

  it('has multiranges from 14', () => {
    expect(versionFeatures(13).multiranges).toBe(false);
    expect(versionFeatures(14).multiranges).toBe(true);
    expect(versionFeatures(18).multiranges).toBe(true);
  });

  it('has pg_create_subscription from 16: on 15 only a superuser subscribes', () => {
    expect(versionFeatures(15).createSubscriptionRole).toBe(false);
    expect(versionFeatures(16).createSubscriptionRole).toBe(true);
    expect(versionFeatures(17).createSubscriptionRole).toBe(true);
  });

  it('an unknown major (0, as preflight passes when a side did not answer) has none of the later features', () => {
    expect(versionFeatures(0)).toEqual({ databaseLocaleColumn: 'daticulocale', multiranges: false, createSubscriptionRole: false });
  });

  it('every difference starts at the major its table names, not one earlier', () => {
    const before = (major: number) => versionFeatures(major - 1);
    expect(before(FIRST_MAJOR_WITH.multiranges).multiranges).toBe(false);
    expect(versionFeatures(FIRST_MAJOR_WITH.multiranges).multiranges).toBe(true);
    expect(before(FIRST_MAJOR_WITH.createSubscriptionRole).createSubscriptionRole).toBe(false);
    expect(versionFeatures(FIRST_MAJOR_WITH.createSubscriptionRole).createSubscriptionRole).toBe(true);
    expect(before(FIRST_MAJOR_WITH.datlocale).databaseLocaleColumn).toBe('daticulocale');
    expect(versionFeatures(FIRST_MAJOR_WITH.datlocale).databaseLocaleColumn).toBe('datlocale');
  });
});
