import type { Comment, Consultation } from '../api.js';
import { Countdown, Deadline, Loading, StatusBadge, TableRegion } from '../components.js';
import { formatDateTime, useLoad, useSession } from '../context.js';
import { word } from '../i18n.js';

interface Mine {
  open: Consultation[];
  receipts: { consultation: Consultation; comment: Comment }[];
}

/** A member state's own view: what it still owes, its open consultations and the receipts of its comments. */
export function MineView() {
  const { api, principal, t, lang } = useSession();
  const me = principal.id;
  const [result, retry] = useLoad<Mine>(
    async () => {
      const { items } = await api.consultations();
      const comments = await Promise.all(items.map(async (c) => (await api.comments(c.id)).items.map((comment) => ({ consultation: c, comment }))));
      const receipts = comments
        .flat()
        .filter((r) => r.comment.memberState === me)
        .sort((a, b) => Date.parse(b.comment.receivedAt) - Date.parse(a.comment.receivedAt));
      return { open: items.filter((c) => c.status === 'open'), receipts };
    },
    [me],
    () => true,
  );
  return (
    <section aria-labelledby="mine-title">
      <h1 id="mine-title">
        {t.mineTitle} ({me})
      </h1>
      <Loading result={result} retry={retry}>
        {({ open, receipts }) => {
          const owed = open.filter((c) => (c.responses[me] ?? 'pending') === 'pending');
          return (
            <>
              <h2>{t.owes}</h2>
              {owed.length === 0 ? (
                <p>{t.nothingOwed}</p>
              ) : (
                <ul class="owed">
                  {owed.map((c) => (
                    <li key={c.id} data-owed={c.id}>
                      <a href={`#/consultations/${c.id}`}>{c.reference}</a> — {c.title} · {t.deadline} <Deadline iso={c.deadline} /> ·{' '}
                      <Countdown deadline={c.deadline} status={c.status} />
                    </li>
                  ))}
                </ul>
              )}

              <h2 id="open-title">{t.openForYou}</h2>
              <TableRegion label={t.openForYou}>
                <table class="data" aria-labelledby="open-title">
                  <thead>
                    <tr>
                      <th scope="col">{t.reference}</th>
                      <th scope="col">{t.title}</th>
                      <th scope="col">{t.status}</th>
                      <th scope="col">{t.deadline}</th>
                      <th scope="col">{t.timeLeft}</th>
                      <th scope="col">{t.yourResponse}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {open.map((c) => (
                      <tr key={c.id}>
                        <th scope="row">
                          <a href={`#/consultations/${c.id}`}>{c.reference}</a>
                        </th>
                        <td>{c.title}</td>
                        <td>
                          <StatusBadge status={c.status} deadline={c.deadline} />
                        </td>
                        <td>
                          <Deadline iso={c.deadline} />
                        </td>
                        <td>
                          <Countdown deadline={c.deadline} status={c.status} />
                        </td>
                        <td>{word(t, c.responses[me] ?? 'pending')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableRegion>

              <h2 id="receipts-title">{t.receiptsTitle}</h2>
              {receipts.length === 0 ? (
                <p>{t.noReceipts}</p>
              ) : (
                <TableRegion label={t.receiptsTitle}>
                  <table class="data" aria-labelledby="receipts-title">
                    <thead>
                      <tr>
                        <th scope="col">{t.tracking}</th>
                        <th scope="col">{t.reference}</th>
                        <th scope="col">{t.receivedAt}</th>
                        <th scope="col">{t.revision}</th>
                        <th scope="col">{t.status}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {receipts.map(({ consultation, comment }) => (
                        <tr key={comment.commentId} data-receipt={comment.trackingNumber}>
                          <th scope="row">{comment.trackingNumber}</th>
                          <td>{consultation.reference}</td>
                          <td>{formatDateTime(comment.receivedAt, lang)}</td>
                          <td>{comment.revision}</td>
                          <td>
                            <StatusBadge status={consultation.status} deadline={consultation.deadline} />
                            {comment.status === 'withdrawn' && ` · ${t.withdrawn}`}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableRegion>
              )}
            </>
          );
        }}
      </Loading>
    </section>
  );
}
