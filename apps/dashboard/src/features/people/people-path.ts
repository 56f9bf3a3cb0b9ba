/** The chronology page for one person at one school. */
export const chronologyPath = (schoolId: string, subject: string): string =>
  `/people?${new URLSearchParams({ schoolId, subject }).toString()}`;
