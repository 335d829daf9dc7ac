import { useState } from 'react';
import { Button, Card, NumberInput, SimpleGrid, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { RapportProblemError } from '@rapport/client';
import { Failure, ok, statusOf, useClient, usePrmT } from '../../lib.js';

type Field = 'unitPrice' | 'currency' | 'leadTimeDays' | 'notes';
const FIELDS: readonly Field[] = ['unitPrice', 'currency', 'leadTimeDays', 'notes'];

/** The server's words about each field of the body (`body.unitPrice` …); what names no field stays for the alert. */
function fieldErrors(error: unknown): { byField: Partial<Record<Field, string>>; other: boolean } {
  const byField: Partial<Record<Field, string>> = {};
  if (!(error instanceof RapportProblemError)) return { byField, other: error != null };
  let other = false;
  for (const issue of error.problem.errors ?? []) {
    const field = issue.path?.replace(/^body\./, '').split('.')[0] as Field | undefined;
    if (field && FIELDS.includes(field)) byField[field] = [byField[field], issue.message].filter(Boolean).join('; ');
    else other = true;
  }
  return { byField, other: other || Object.keys(byField).length === 0 };
}

const empty = { unitPrice: '' as number | string, currency: 'EUR', leadTimeDays: '' as number | string, notes: '' };

/**
 * A supplier's answer to an open RFQ, as the supplier it acts for. The API decides what is a
 * valid quote: its messages are shown on their fields (in the API's words, not translated),
 * anything else in the alert; once taken, the RFQ list is read again and shows the quote.
 */
export function QuoteForm({ rfqId, supplierId, supplierName }: { rfqId: string; supplierId: string; supplierName?: string }) {
  const t = usePrmT();
  const client = useClient();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(empty);
  const send = useMutation({
    mutationFn: async () =>
      ok(
        await client.POST('/api/v1/prm/rfqs/{id}/quotes', {
          params: { path: { id: rfqId } },
          body: {
            supplierId,
            unitPrice: Number(draft.unitPrice),
            currency: draft.currency.trim().toUpperCase(),
            leadTimeDays: Number(draft.leadTimeDays),
            notes: draft.notes.trim() || undefined,
          },
        }),
      ),
    onSuccess: () => {
      setDraft(empty);
      return queryClient.invalidateQueries({ queryKey: ['prm', 'rfqs'] });
    },
    // Quoted meanwhile (another tab) or the RFQ closed or withdrawn: the list is stale.
    onError: (error) => {
      const status = statusOf(error);
      if (status === 404 || status === 409) return queryClient.invalidateQueries({ queryKey: ['prm', 'rfqs'] });
    },
  });
  const { byField, other } = send.error ? fieldErrors(send.error) : { byField: {}, other: false };
  const error = (field: Field) => (byField[field] ? <span translate="no">{byField[field]}</span> : undefined);
  const headingId = `prm-quote-${rfqId}-${supplierId}`;
  const ready = draft.unitPrice !== '' && draft.leadTimeDays !== '' && draft.currency.trim() !== '';
  return (
    <Card withBorder mt="sm" component="section" aria-labelledby={headingId}>
      <Title order={3} size="h5" id={headingId}>
        {t('supply.yourQuote')}
        {supplierName && <span translate="no"> · {supplierName}</span>}
      </Title>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (ready) send.mutate();
        }}
      >
        <SimpleGrid cols={{ base: 1, sm: 3 }} mt="xs">
          <NumberInput label={t('supply.unitPrice')} required min={0} decimalScale={4} value={draft.unitPrice} onChange={(unitPrice) => setDraft({ ...draft, unitPrice })} error={error('unitPrice')} />
          <TextInput label={t('supply.currency')} required value={draft.currency} onChange={(e) => setDraft({ ...draft, currency: e.currentTarget.value })} maxLength={3} error={error('currency')} />
          <NumberInput
            label={t('supply.leadTimeDays')}
            required
            min={0}
            allowDecimal={false}
            value={draft.leadTimeDays}
            onChange={(leadTimeDays) => setDraft({ ...draft, leadTimeDays })}
            error={error('leadTimeDays')}
          />
        </SimpleGrid>
        <Textarea
          mt="xs"
          label={t('supply.quoteNotes')}
          autosize
          minRows={1}
          value={draft.notes}
          onChange={(e) => setDraft({ ...draft, notes: e.currentTarget.value })}
          maxLength={5000}
          error={error('notes')}
        />
        <Button mt="sm" type="submit" disabled={!ready} loading={send.isPending}>
          {t('supply.sendQuote')}
        </Button>
      </form>
      {other && <Failure error={send.error} />}
    </Card>
  );
}
