/** The JSON of GET /v1/reports/progress (see packages/reports). */
export interface ProgressReport {
  period: { from: string; to: string };
  totals: { consultations: number; addressed: number; responded: number; responseRate: number; statements: number; forwarded: number; returned: number };
  memberStates: {
    memberState: string;
    consultations: number;
    responded: number;
    responseRate: number;
    medianResponseSeconds: number | null;
    onTimeShare: number | null;
    remindersBeforeResponse: number | null;
    extensions: number;
  }[];
  consultations: {
    id: string;
    reference: string;
    title: string;
    addressees: number;
    responded: number;
    responseRate: number;
    medianResponseSeconds: number | null;
    onTimeShare: number | null;
    remindersBeforeResponse: number | null;
    extensions: number;
    /** Under silence procedure once closed: the outcome in force at the period's end. */
    silenceOutcome?: 'deemed-adopted' | 'silence-broken' | null;
  }[];
  csos: { csoId: string; name: string; submitted: number; forwarded: number; returned: number; inReview: number; medianReviewSeconds: number | null }[];
}
