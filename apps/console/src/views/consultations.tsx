import { useState } from 'preact/hooks';
import { Countdown, Deadline, Loading, StatusBadge, TableRegion } from '../components.js';
import { useLoad, useSession } from '../context.js';

/** Every consultation the key may see, with its status, deadline and a live countdown. */
export function ConsultationsView() {
  const { api, t } = useSession();
  const [status, setStatus] = useState<'' | 'open' | 'closed'>('');
  const [result, retry] = useLoad(() => api.consultations(status || undefined), [status], () => true);
  return (
    <section aria-labelledby="consultations-title">
      <h1 id="consultations-title">{t.consultationsTitle}</h1>
      <div class="toolbar">
        <label for="status-filter">{t.filterStatus}</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus((e.currentTarget).value as '' | 'open' | 'closed')}>
          <option value="">{t.allStatuses}</option>
          <option value="open">{t.open}</option>
          <option value="closed">{t.closed}</option>
        </select>
      </div>
      <Loading result={result} retry={retry}>
        {({ items }) =>
          items.length === 0 ? (
            <p>{t.noConsultations}</p>
          ) : (
            <TableRegion label={t.consultationsTitle}>
              <table class="data">
                <thead>
                  <tr>
                    <th scope="col">{t.reference}</th>
                    <th scope="col">{t.title}</th>
                    <th scope="col">{t.status}</th>
                    <th scope="col">{t.deadline}</th>
                    <th scope="col">{t.timeLeft}</th>
                    <th scope="col">{t.responses}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((c) => {
                    const answered = Object.values(c.responses).filter((r) => r !== 'pending').length;
                    return (
                      <tr key={c.id} data-consultation={c.id}>
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
                        <td>
                          {answered}/{c.addressees.length}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableRegion>
          )
        }
      </Loading>
    </section>
  );
}
