/** The report's words in the console's three languages. */
export type ReportLanguage = 'en' | 'ru' | 'kk';
export const REPORT_LANGUAGES: readonly ReportLanguage[] = ['en', 'ru', 'kk'];

export interface ReportLabels {
  title: string;
  period: string;
  generated: string;
  totals: string;
  consultations: string;
  memberStates: string;
  csos: string;
  responseRateChart: string;
  statementsChart: string;
  memberState: string;
  consultation: string;
  cso: string;
  addressed: string;
  responded: string;
  responseRate: string;
  medianResponse: string;
  onTime: string;
  reminders: string;
  extensions: string;
  submitted: string;
  forwarded: string;
  returned: string;
  inReview: string;
  medianReview: string;
  none: string;
  /** Silence procedure outcomes, shown beside the consultation. */
  deemedAdopted: string;
  silenceBroken: string;
}

export const REPORT_LABELS: Record<ReportLanguage, ReportLabels> = {
  en: {
    title: 'Consultation progress report',
    period: 'Period',
    generated: 'Computed from the event history; the same period always gives the same figures.',
    totals: 'Totals',
    consultations: 'Consultations',
    memberStates: 'Member states',
    csos: 'Civil-society organisations',
    responseRateChart: 'Response rate by member state',
    statementsChart: 'Statements by organisation: forwarded, returned, in review',
    memberState: 'State',
    consultation: 'Consultation',
    cso: 'Organisation',
    addressed: 'Addressed',
    responded: 'Responded',
    responseRate: 'Response rate',
    medianResponse: 'Median time',
    onTime: 'On time',
    reminders: 'Reminders',
    extensions: 'Extensions',
    submitted: 'Submitted',
    forwarded: 'Forwarded',
    returned: 'Returned',
    inReview: 'In review',
    medianReview: 'Median review',
    none: 'Nothing in this period.',
    deemedAdopted: 'deemed adopted',
    silenceBroken: 'silence broken',
  },
  ru: {
    title: 'Отчёт о ходе консультаций',
    period: 'Период',
    generated: 'Рассчитано по истории событий; за один и тот же период цифры всегда одинаковы.',
    totals: 'Итого',
    consultations: 'Консультации',
    memberStates: 'Государства-члены',
    csos: 'Организации гражданского общества',
    responseRateChart: 'Доля ответов по государствам-членам',
    statementsChart: 'Заявления по организациям: переданы, возвращены, на рассмотрении',
    memberState: 'Государство',
    consultation: 'Консультация',
    cso: 'Организация',
    addressed: 'Адресовано',
    responded: 'Ответили',
    responseRate: 'Доля ответов',
    medianResponse: 'Медиана',
    onTime: 'В срок',
    reminders: 'Напоминания',
    extensions: 'Продления',
    submitted: 'Подано',
    forwarded: 'Передано',
    returned: 'Возвращено',
    inReview: 'На рассмотрении',
    medianReview: 'Медиана',
    none: 'За этот период ничего нет.',
    deemedAdopted: 'считается принятым',
    silenceBroken: 'молчание нарушено',
  },
  kk: {
    title: 'Консультациялардың барысы туралы есеп',
    period: 'Кезең',
    generated: 'Оқиғалар тарихы бойынша есептелді; бір кезең үшін сандар әрқашан бірдей.',
    totals: 'Барлығы',
    consultations: 'Консультациялар',
    memberStates: 'Мүше мемлекеттер',
    csos: 'Азаматтық қоғам ұйымдары',
    responseRateChart: 'Мүше мемлекеттер бойынша жауап үлесі',
    statementsChart: 'Ұйымдар бойынша мәлімдемелер: жіберілді, қайтарылды, қаралуда',
    memberState: 'Мемлекет',
    consultation: 'Консультация',
    cso: 'Ұйым',
    addressed: 'Жолданды',
    responded: 'Жауап берді',
    responseRate: 'Жауап үлесі',
    medianResponse: 'Медиана',
    onTime: 'Мерзімінде',
    reminders: 'Еске салулар',
    extensions: 'Ұзартулар',
    submitted: 'Берілді',
    forwarded: 'Жіберілді',
    returned: 'Қайтарылды',
    inReview: 'Қаралуда',
    medianReview: 'Медиана',
    none: 'Бұл кезеңде ештеңе жоқ.',
    deemedAdopted: 'қабылданған деп саналады',
    silenceBroken: 'үнсіздік бұзылды',
  },
};
